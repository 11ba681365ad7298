"""Attaching network interfaces to servers and detaching them.

attach_interface: in one transaction, check the server (ACTIVE or SHUTOFF, no task),
count the port against the `ports` quota and create it on the network (unique MAC,
an address from the subnet's pool), bound to the server's host, task `attaching` with a
deadline; or take the user's unbound port. Then cast `ensure_port` to any network agent
(requested chassis: the server's host) and `attach_interface` to the host's compute
agent; the network agent's port.active fact makes the port ACTIVE (port_states.active).
detach_interface casts `detach_interface` and `delete_port`; port.down ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from conductor import lifecycle
from conductor.agents import agent_topic
from conductor.db.queries import networks, ports
from conductor.device_records import port_from_row
from conductor.records import network_from_row, subnet_from_row
from conductor.server_ports import DEVICE_OWNER, create_server_port
from conductor.volume_attach import server_for_device_change
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages import agent_devices as agent
from schemas.messages import agent_network as network
from schemas.messages.common import Accepted
from schemas.messages.conductor_servers import (
    AttachInterface,
    AttachInterfaceReply,
    DetachInterface,
)
from schemas.network import Port

NETWORK = "node_agent.network"


async def _new_port(
    conn: Any, req: AttachInterface, server: dict[str, Any], deadline: Any
) -> dict[str, Any]:
    assert req.network_id is not None
    if len(req.fixed_ips) > 1:
        raise InvalidInput("give at most one fixed IP")
    return await create_server_port(
        conn,
        network_id=req.network_id,
        server_id=server["id"],
        project_id=server["project_id"],
        binding_host=server["host"],
        fixed_ip=req.fixed_ips[0] if req.fixed_ips else None,
        task_state="attaching",
        task_deadline=deadline,
    )


async def _users_port(
    conn: Any, req: AttachInterface, server: dict[str, Any], deadline: Any
) -> dict[str, Any]:
    assert req.port_id is not None
    port = await ports.get_port(conn, req.port_id, project_id=server["project_id"])
    if port is None:
        raise NotFound(f"port {req.port_id} not found", port_id=str(req.port_id))
    bound = await ports.bind_port(
        conn,
        req.port_id,
        device_id=str(server["id"]),
        device_owner=DEVICE_OWNER,
        binding_host=server["host"],
        task_deadline=deadline,
    )
    if bound is None:
        raise Conflict(f"port {req.port_id} is in use")
    return bound


class InterfaceAPI:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        client: Client,
        *,
        timeout_s: float,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._timeout = timeout_s
        self._on_commit = on_commit

    @rpc
    async def attach_interface(
        self, ctx: RequestContext, req: AttachInterface
    ) -> AttachInterfaceReply:
        deadline = lifecycle.deadline_in(self._timeout)
        async with self._pool.acquire() as conn, conn.transaction():
            server = await server_for_device_change(
                conn, req.server_id, ctx, "attach an interface to"
            )
            if req.network_id is not None:
                row = await _new_port(conn, req, server, deadline)
            else:
                row = await _users_port(conn, req, server, deadline)
            switch = await _ensure_network(conn, row["network_id"])
        self._on_commit()
        port = port_from_row(row)
        host = server["host"]
        # the logical switch first (idempotent), so the port has somewhere to go
        await self._client.cast(f"{NETWORK}.ensure_network", switch, context=ctx)
        ensure = network.EnsurePort(port=port, requested_chassis=host)
        await self._client.cast(f"{NETWORK}.ensure_port", ensure, context=ctx)
        plug = agent.AttachInterface(instance_id=req.server_id, port=port)
        await self._client.cast(agent_topic(host, plug), plug, context=ctx)
        return AttachInterfaceReply(port=port)

    @rpc
    async def detach_interface(self, ctx: RequestContext, req: DetachInterface) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            server = await server_for_device_change(
                conn, req.server_id, ctx, "detach an interface from"
            )
            row = await ports.get_port(conn, req.port_id, for_update=True)
            if row is None or row["device_id"] != str(req.server_id):
                raise NotFound(f"port {req.port_id} is not attached to server {req.server_id}")
            if row["task_state"] is not None:
                raise Conflict(f"port {req.port_id} is {row['task_state']}")
            row = await ports.update_port(
                conn,
                req.port_id,
                expected_task=(None,),
                task_state="detaching",
                task_deadline=lifecycle.deadline_in(self._timeout),
            )
        self._on_commit()
        assert row is not None
        port: Port = port_from_row(row)
        unplug = agent.DetachInterface(instance_id=req.server_id, port=port)
        await self._client.cast(agent_topic(server["host"], unplug), unplug, context=ctx)
        delete = network.DeletePort(port_id=port.id, network_id=port.network_id)
        await self._client.cast(f"{NETWORK}.delete_port", delete, context=ctx)
        return Accepted(resource_id=req.port_id, request_id=ctx.request_id)


async def _ensure_network(conn: Any, network_id: Any) -> network.EnsureNetwork:
    """The command that makes the port's network exist on the network agents."""
    row = await networks.get_network(conn, network_id)
    assert row is not None, "a port's network exists (foreign key)"
    subnets = tuple(subnet_from_row(s) for s in await networks.subnets_of(conn, network_id))
    return network.EnsureNetwork(
        network=network_from_row(row, tuple(s.id for s in subnets)), subnets=subnets
    )
