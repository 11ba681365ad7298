"""The Network API's floating IPs and quotas (Neutron semantics).

A floating IP holds an address of an external network through a `network:floatingip`
port (so IPAM keeps it unique). Associating it with a port needs a router with its
gateway on that external network and an interface on the subnet of the port's fixed IP
(404 ExternalGatewayForFloatingIPNotFound otherwise); the agents then get
`ensure_floating_ip` (distributed with the port's MAC once the port is ACTIVE), and
`delete_floating_ip` when it is disassociated or released.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import floating_ips, net_networks, net_ports, net_routers, quotas
from conductor.db.types import Connection
from conductor.network_api_common import (
    NEUTRON_NAMES,
    Agents,
    changed,
    charge_neutron,
    owner,
    scope,
)
from conductor.network_api_ports import allocation_error
from conductor.records import model_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.base import Message
from schemas.errors import Conflict, Forbidden, InvalidInput, NotFound
from schemas.messages import agent_network as agent
from schemas.messages.common import Accepted
from schemas.messages.conductor_network_api import (
    NetCreateFloatingIp,
    NetFloatingIp,
    NetFloatingIps,
    NetListFloatingIps,
    NetQuota,
    NetRef,
    NetShowQuota,
    NetUpdateFloatingIp,
    NetUpdateQuota,
    QuotaDetail,
)
from schemas.router import FloatingIp

FLOATING_OWNER = "network:floatingip"
SKYMESH_NAMES = {neutron: ours for ours, neutron in NEUTRON_NAMES.items()}


def floating_model(row: dict[str, Any]) -> FloatingIp:
    return model_from_row(FloatingIp, row)


def _not_found(floating_ip_id: UUID) -> NotFound:
    return NotFound(f"Floating IP {floating_ip_id} could not be found", kind="FloatingIPNotFound")


async def _target(
    conn: Connection,
    ctx: RequestContext,
    fip: dict[str, Any],
    port_id: UUID,
    fixed_ip: str | None,
) -> tuple[dict[str, Any], str, UUID]:
    """The port, fixed IP and router a floating IP association goes to."""
    port = await net_ports.get_port(conn, port_id, scope(ctx))
    if port is None:
        raise NotFound(f"Port {port_id} could not be found.", kind="PortNotFound")
    if port["project_id"] != fip["project_id"] and not ctx.is_admin:
        raise NotFound(f"Port {port_id} could not be found.", kind="PortNotFound")
    candidates = [f for f in port["fixed_ips"] if fixed_ip in (None, f["ip_address"])]
    if not candidates:
        raise InvalidInput(
            f"Bad floatingip request: Port {port_id} does not have fixed ip {fixed_ip or '(any)'}."
        )
    chosen = candidates[0]
    router_id = await net_routers.router_reaching(
        conn, fip["floating_network_id"], chosen["subnet_id"]
    )
    if router_id is None:
        raise NotFound(
            f"External network {fip['floating_network_id']} is not reachable from subnet "
            f"{chosen['subnet_id']}.  Therefore, cannot associate Port {port_id} with a "
            "Floating IP.",
            kind="ExternalGatewayForFloatingIPNotFound",
        )
    other = await net_routers.fixed_ip_taken(conn, port_id, chosen["ip_address"], fip["id"])
    if other is not None:
        raise Conflict(
            f"Cannot associate floating IP {fip['floating_ip_address']} ({fip['id']}) with "
            f"port {port_id} using fixed IP {chosen['ip_address']}, as that fixed IP already "
            f"has a floating IP on external network {fip['floating_network_id']}.",
            kind="FloatingIPPortAlreadyAssociated",
        )
    return port, chosen["ip_address"], router_id


class FloatingIpResources:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client) -> None:
        self._pool = pool
        self._agents = Agents(client)

    @rpc
    async def net_list_floating_ips(
        self, ctx: RequestContext, req: NetListFloatingIps
    ) -> NetFloatingIps:
        async with self._pool.acquire() as conn:
            rows = await net_routers.list_floating_ips(conn, scope(ctx), req.model_dump())
        return NetFloatingIps(floating_ips=tuple(floating_model(r) for r in rows))

    @rpc
    async def net_show_floating_ip(self, ctx: RequestContext, req: NetRef) -> NetFloatingIp:
        async with self._pool.acquire() as conn:
            row = await net_routers.get_floating_ip(conn, req.id, scope(ctx))
        if row is None:
            raise _not_found(req.id)
        return NetFloatingIp(floating_ip=floating_model(row))

    @rpc
    async def net_create_floating_ip(
        self, ctx: RequestContext, req: NetCreateFloatingIp
    ) -> NetFloatingIp:
        project_id = owner(ctx, req.project_id)
        if req.floating_ip_address is not None and not ctx.is_admin:
            raise Forbidden("(rule:create_floatingip:floating_ip_address) is disallowed by policy")
        async with self._pool.acquire() as conn, conn.transaction():
            network = await net_networks.get_network(conn, req.floating_network_id, scope(ctx))
            if network is None:
                raise NotFound(
                    f"Network {req.floating_network_id} could not be found.",
                    kind="NetworkNotFound",
                )
            if not network["external"]:
                raise InvalidInput(
                    f"Bad floatingip request: Network {req.floating_network_id} is not a valid "
                    "external network."
                )
            await charge_neutron(conn, project_id, {"floating_ips": 1})
            floating_ip_id = await _allocate(conn, project_id, req)
            commands = []
            if req.port_id is not None:
                commands = await self._associate(
                    conn, ctx, floating_ip_id, req.port_id, req.fixed_ip_address
                )
            row = await net_routers.get_floating_ip(conn, floating_ip_id, None)
        await self._agents.cast(ctx, *commands)
        assert row is not None
        return NetFloatingIp(floating_ip=floating_model(row))

    async def _associate(
        self,
        conn: Connection,
        ctx: RequestContext,
        floating_ip_id: UUID,
        port_id: UUID | None,
        fixed_ip: str | None,
    ) -> list[Message]:
        """Point the floating IP at the port (None: detach); the agents' commands."""
        fip = await net_routers.get_floating_ip(conn, floating_ip_id, None, lock=True)
        assert fip is not None
        commands: list[Message] = []
        if fip["port_id"] is not None:
            commands.append(
                agent.DeleteFloatingIp(floating_ip_id=fip["id"], router_id=fip["router_id"])
            )
        if port_id is None:
            await net_routers.associate(conn, floating_ip_id, None, None, None)
            return commands
        port, address, router_id = await _target(conn, ctx, fip, port_id, fixed_ip)
        await net_routers.associate(conn, floating_ip_id, port_id, address, router_id)
        row = await net_routers.get_floating_ip(conn, floating_ip_id, None)
        assert row is not None
        mac = port["mac_address"] if port["status"] == "ACTIVE" else None
        return [agent.EnsureFloatingIp(floating_ip=floating_model(row), external_mac=mac)]

    @rpc
    async def net_update_floating_ip(
        self, ctx: RequestContext, req: NetUpdateFloatingIp
    ) -> NetFloatingIp:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_routers.get_floating_ip(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise _not_found(req.id)
            if changed(req, "description"):
                await net_networks.update_row(
                    conn, "floating_ips", req.id, {"description": req.description}
                )
            commands: list[Message] = []
            if changed(req, "port_id"):
                commands = await self._associate(
                    conn, ctx, req.id, req.port_id, req.fixed_ip_address
                )
            updated = await net_routers.get_floating_ip(conn, req.id, None)
        await self._agents.cast(ctx, *commands)
        assert updated is not None
        return NetFloatingIp(floating_ip=floating_model(updated))

    @rpc
    async def net_delete_floating_ip(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_routers.get_floating_ip(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise _not_found(req.id)
            await floating_ips.release(conn, req.id)
            await quotas.release(conn, row["project_id"], {"floating_ips": 1})
        await self._agents.cast(
            ctx, agent.DeleteFloatingIp(floating_ip_id=req.id, router_id=row["router_id"])
        )
        return Accepted(resource_id=req.id, request_id=ctx.request_id)

    # -------------------------------------------------------------------------- quotas

    @rpc
    async def net_show_quota(self, ctx: RequestContext, req: NetShowQuota) -> NetQuota:
        if not ctx.is_admin and req.project_id != ctx.project_id:
            raise Forbidden("only an admin may see another project's quota")
        async with self._pool.acquire() as conn:
            usage = await quotas.usage(conn, req.project_id)
        return _quota(req.project_id, usage)

    @rpc
    async def net_update_quota(self, ctx: RequestContext, req: NetUpdateQuota) -> NetQuota:
        if not ctx.is_admin:
            raise Forbidden("(rule:update_quota) is disallowed by policy")
        unknown = sorted(set(req.limits) - set(SKYMESH_NAMES))
        if unknown:
            raise InvalidInput(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        if any(limit < -1 for limit in req.limits.values()):
            raise InvalidInput("quota limits must be -1 (unlimited) or more")
        async with self._pool.acquire() as conn, conn.transaction():
            for name, limit in req.limits.items():
                try:
                    await quotas.set_limit(conn, req.project_id, SKYMESH_NAMES[name], limit)
                except asyncpg.ForeignKeyViolationError:
                    raise NotFound(f"project {req.project_id} not found") from None
            usage = await quotas.usage(conn, req.project_id)
        return _quota(req.project_id, usage)


def _quota(project_id: UUID, usage: dict[str, dict[str, int]]) -> NetQuota:
    details = {}
    for ours, neutron in NEUTRON_NAMES.items():
        found = usage.get(ours, {"limit": -1, "in_use": 0, "reserved": 0})
        details[neutron] = QuotaDetail(
            limit=found["limit"], used=found["in_use"], reserved=found["reserved"]
        )
    return NetQuota(project_id=project_id, details=details)


async def _allocate(conn: Connection, project_id: UUID, req: NetCreateFloatingIp) -> UUID:
    values = {
        "network_id": req.floating_network_id,
        "project_id": project_id,
        "name": "",
        "description": "",
        "admin_state_up": True,
        "device_id": "",
        "device_owner": FLOATING_OWNER,
        "binding_host": None,
        "vnic_type": "normal",
        "vif_type": "unbound",
        "port_security_enabled": False,
    }
    wanted = None
    if req.floating_ip_address is not None:
        wanted = [{"subnet_id": None, "ip_address": req.floating_ip_address}]
    try:
        port_id = await net_ports.insert_port(conn, values, None)
        await net_ports.allocate(
            conn, req.floating_network_id, port_id, wanted, owner=FLOATING_OWNER
        )
    except net_ports.AllocationError as exc:
        raise allocation_error(exc) from None
    port = await net_ports.get_port(conn, port_id, None)
    assert port is not None
    address = port["fixed_ips"][0]["ip_address"]
    floating_ip_id = await net_routers.insert_floating_ip(
        conn, project_id, req.floating_network_id, address, port_id, req.description
    )
    await net_networks.update_row(conn, "ports", port_id, {"device_id": str(floating_ip_id)})
    return floating_ip_id
