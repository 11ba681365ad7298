"""The ports a server boots with, as Nova's allocate_for_instance does them in Neutron.

At create, in the create transaction (so a bad network or a full subnet refuses the
request at once): `networks` is resolved ("none": no port; "auto": the one network the
project may use that is not external, none, or 409 when there are several), then each
instance gets its own port on each requested network (counted against `ports`, a unique
MAC, an address from the pool, the server's security groups), or takes the user's
unbound port. No host yet: the build binds them (`bind`) once the scheduler chose one,
and again after a reschedule. When the server goes (`release`), the ports it created
are deleted with their addresses and floating IP associations, the user's are unbound
and kept (Nova's preserve_on_delete, set when the port was claimed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

from conductor import port_states
from conductor.agents import Casts
from conductor.db.queries import net_ports, net_security, networks, ports
from conductor.db.types import Connection
from conductor.network_api_common import ensure_network_command
from conductor.network_api_ports import VIF_TYPES, port_model
from conductor.network_api_security import group_command
from conductor.server_ports import DEVICE_OWNER, create_server_port
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages import agent_network as agent
from schemas.messages.conductor_servers import NetworkRequest
from schemas.network import Port, VnicType

NETWORK = "network"  # any network agent (conductor/agents.py)
AMBIGUOUS = "Multiple possible networks found, use a Network ID to be more specific."

Requested = tuple[NetworkRequest, ...] | Literal["auto", "none"]


async def requested_networks(
    conn: Connection, requested: Requested, project_id: UUID
) -> tuple[NetworkRequest, ...]:
    """The NICs each instance gets. "auto" is Nova's get-me-a-network without the
    auto-allocated topology: the project's own or shared networks that are not
    external must be exactly one to be chosen."""
    if requested == "none":
        return ()
    if requested != "auto":
        return requested
    usable = [n for n in await networks.visible_networks(conn, project_id) if not n["external"]]
    if len(usable) > 1:
        raise Conflict(AMBIGUOUS)
    return tuple(NetworkRequest(network_id=n["id"]) for n in usable)


def check_count(requests: Sequence[NetworkRequest], count: int) -> None:
    """A port or a fixed IP can be given to one server only (Nova's 400)."""
    if count > 1 and any(r.port_id is not None or r.fixed_ip is not None for r in requests):
        raise InvalidInput("Multiple instances cannot be created with a port or a fixed IP.")


async def security_groups(
    conn: Connection, project_id: UUID, names: Sequence[str]
) -> tuple[list[UUID], Casts]:
    """The groups named (or given by id) in the project; `default` is made on first
    use as the network API does, with the command that tells the agents about it."""
    found: list[UUID] = []
    casts: Casts = []
    for name in dict.fromkeys(names):
        if name == "default":
            group_id, created = await net_security.ensure_default(conn, project_id)
            if created:
                casts.append((NETWORK, await group_command(conn, group_id)))
        else:
            group_id = await _named_group(conn, project_id, name)
        found.append(group_id)
    return found, casts


async def _named_group(conn: Connection, project_id: UUID, name: str) -> UUID:
    try:
        by_id = await net_security.get_group(conn, UUID(name), project_id)
    except ValueError:
        by_id = None
    if by_id is not None:
        group_id: UUID = by_id["id"]
        return group_id
    rows = await net_security.list_groups(conn, project_id, {"name": name})
    if not rows:
        raise InvalidInput(f"Security group {name} not found for project {project_id}.")
    if len(rows) > 1:
        raise Conflict(f"Multiple security groups found matching '{name}'. Use an ID.")
    group_id = rows[0]["id"]
    return group_id


async def allocate(
    conn: Connection,
    server_id: UUID,
    project_id: UUID,
    requests: Sequence[NetworkRequest],
    group_ids: Sequence[UUID],
) -> None:
    """Give server `server_id` its ports, in the order requested."""
    for request in requests:
        if request.port_id is not None:
            await _claim(conn, server_id, project_id, request.port_id)
            continue
        assert request.network_id is not None
        try:
            row = await create_server_port(
                conn,
                network_id=request.network_id,
                server_id=server_id,
                project_id=project_id,
                fixed_ip=request.fixed_ip,
            )
        except NotFound as exc:  # Nova answers a bad network of a create with 400
            raise InvalidInput(exc.message) from None
        net = await networks.get_network(conn, request.network_id)
        if net is not None and net["port_security_enabled"]:
            await net_security.set_port_groups(conn, row["id"], group_ids)


async def _claim(conn: Connection, server_id: UUID, project_id: UUID, port_id: UUID) -> None:
    claimed = await ports.claim_for_server(
        conn, port_id, project_id=project_id, device_id=str(server_id), device_owner=DEVICE_OWNER
    )
    if claimed is not None:
        return
    if await ports.get_port(conn, port_id, project_id=project_id) is None:
        raise InvalidInput(f"Port id {port_id} could not be found.")
    raise Conflict(f"Port {port_id} is still in use.")


async def bind(conn: Connection, server_id: UUID, host: str) -> tuple[tuple[Port, ...], Casts]:
    """Bind the server's ports to `host`: the ports as Spawn plugs them, and the
    commands that make their networks and logical ports (requested chassis: the host)
    exist on the network agents."""
    rows = await net_ports.list_ports(conn, None, {"device_id": str(server_id)})
    for row in rows:
        vif = VIF_TYPES.get(VnicType(row["vnic_type"]), "ovs")
        await ports.bind_to_host(conn, row["id"], host, vif)
    bound = tuple(
        port_model(row)
        for row in await net_ports.list_ports(conn, None, {"device_id": str(server_id)})
    )
    casts: Casts = [
        (NETWORK, await ensure_network_command(conn, network_id))
        for network_id in dict.fromkeys(port.network_id for port in bound)
    ]
    casts += [(NETWORK, agent.EnsurePort(port=port, requested_chassis=host)) for port in bound]
    return bound, casts


async def release(conn: Connection, server_id: UUID) -> Casts:
    """The server is gone: its own ports are deleted (addresses, quota and floating IP
    associations freed), the user's unbound; the agents drop their logical ports."""
    casts: Casts = []
    for row in await ports.ports_of_device(conn, str(server_id), for_update=True):
        if not row["preserve_on_delete"]:
            casts += [
                (NETWORK, agent.DeleteFloatingIp(floating_ip_id=f["id"], router_id=f["router_id"]))
                for f in await net_ports.floating_ips_on(conn, row["id"])
            ]
        await port_states.remove(conn, row)
        if row["binding_host"] is not None:
            delete = agent.DeletePort(port_id=row["id"], network_id=row["network_id"])
            casts.append((NETWORK, delete))
    return casts
