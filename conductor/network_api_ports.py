"""The Network API's ports (Neutron semantics).

A new port gets the fixed IPs asked for (or one from the first subnet with a free
address), a random fa:16:3e MAC unless one is given, and the project's default security
group unless groups are given or port security is off. It starts DOWN; once bound to a
host (`binding:host_id`, admin only) the network agents are told (`ensure_network`,
`ensure_port` with the host as requested chassis) and the agent's port.active fact makes
it ACTIVE. Ports of routers and floating IPs are managed through those resources only.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import net_networks, net_ports, net_security, quotas
from conductor.db.types import Connection
from conductor.network_api_common import (
    Agents,
    changed,
    charge_neutron,
    ensure_network_command,
    owner,
    scope,
)
from conductor.network_api_security import group_command
from conductor.records import model_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.base import Message
from schemas.errors import Conflict, Forbidden, InvalidInput, NotFound
from schemas.messages import agent_network as agent
from schemas.messages.common import Accepted
from schemas.messages.conductor_network_api import (
    NetCreatePort,
    NetListPorts,
    NetPort,
    NetPorts,
    NetRef,
    NetUpdatePort,
)
from schemas.network import Port, VnicType

VIF_TYPES = {
    VnicType.NORMAL: "ovs",
    VnicType.DIRECT: "hw_veb",
    VnicType.DIRECT_PHYSICAL: "hostdev_physical",
    VnicType.MACVTAP: "hw_veb",
}
# ports that only their router or floating IP may create, change or delete
MANAGED_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")


def port_model(row: dict[str, Any]) -> Port:
    return model_from_row(Port, row)


def charged(device_owner: str) -> bool:
    """Does this port count against the project's `ports` quota (the ones users and
    servers make; network-owned ports do not, as in the rest of the conductor)?"""
    return not device_owner.startswith("network:")


def allocation_error(exc: net_ports.AllocationError) -> Exception:
    if exc.kind in ("InvalidInput", "InvalidIpForNetwork", "InvalidIpForSubnet"):
        return InvalidInput(str(exc), kind=exc.kind)
    return Conflict(str(exc), kind=exc.kind)


async def _groups(
    conn: Connection, ctx: RequestContext, project_id: UUID, wanted: tuple[UUID, ...]
) -> list[UUID]:
    for group_id in wanted:
        if (
            await net_security.get_group(conn, group_id, None if ctx.is_admin else project_id)
            is None
        ):
            raise NotFound(
                f"Security group {group_id} does not exist", kind="SecurityGroupNotFound"
            )
    return list(wanted)


def _device_owner_allowed(ctx: RequestContext, device_owner: str) -> None:
    """Only admins make network-owned ports (they are not counted in the quota)."""
    if device_owner.startswith("network:") and not ctx.is_admin:
        raise Forbidden("(rule:create_port:device_owner) is disallowed by policy")


class PortResources:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client) -> None:
        self._pool = pool
        self._agents = Agents(client)

    @rpc
    async def net_list_ports(self, ctx: RequestContext, req: NetListPorts) -> NetPorts:
        async with self._pool.acquire() as conn:
            rows = await net_ports.list_ports(conn, scope(ctx), req.model_dump())
        return NetPorts(ports=tuple(port_model(r) for r in rows))

    @rpc
    async def net_show_port(self, ctx: RequestContext, req: NetRef) -> NetPort:
        async with self._pool.acquire() as conn:
            row = await net_ports.get_port(conn, req.id, scope(ctx))
        if row is None:
            raise NotFound(f"Port {req.id} could not be found.", kind="PortNotFound")
        return NetPort(port=port_model(row))

    @rpc
    async def net_create_port(self, ctx: RequestContext, req: NetCreatePort) -> NetPort:
        project_id = owner(ctx, req.project_id)
        if req.binding_host is not None and not ctx.is_admin:
            raise Forbidden("(rule:create_port:binding:host_id) is disallowed by policy")
        _device_owner_allowed(ctx, req.device_owner)
        commands: list[Message] = []
        async with self._pool.acquire() as conn, conn.transaction():
            network = await net_networks.get_network(conn, req.network_id, scope(ctx))
            if network is None:
                raise NotFound(
                    f"Network {req.network_id} could not be found.", kind="NetworkNotFound"
                )
            if charged(req.device_owner):
                await charge_neutron(conn, project_id, {"ports": 1})
            security = (
                network["port_security_enabled"]
                if req.port_security_enabled is None
                else req.port_security_enabled
            )
            groups = await self._initial_groups(conn, ctx, project_id, req, security, commands)
            port_id = await self._insert(conn, req, project_id, security)
            await net_security.set_port_groups(conn, port_id, groups)
            port = await net_ports.get_port(conn, port_id, None)
            assert port is not None
            if port["binding_host"]:
                commands.append(await ensure_network_command(conn, req.network_id))
        model = port_model(port)
        if model.binding_host:
            commands.append(agent.EnsurePort(port=model, requested_chassis=model.binding_host))
        await self._agents.cast(ctx, *commands)
        return NetPort(port=model)

    async def _initial_groups(
        self,
        conn: Connection,
        ctx: RequestContext,
        project_id: UUID,
        req: NetCreatePort,
        security: bool,
        commands: list[Message],
    ) -> list[UUID]:
        if req.security_groups is not None:
            if req.security_groups and not security:
                raise InvalidInput(
                    "Port security must be enabled in order to have allowed address pairs "
                    "or security groups on a port.",
                    kind="PortSecurityAndIPRequiredForSecurityGroups",
                )
            return await _groups(conn, ctx, project_id, req.security_groups)
        if not security or req.device_owner.startswith("network:"):
            return []
        group_id, created = await net_security.ensure_default(conn, project_id)
        if created:
            commands.append(await group_command(conn, group_id))
        return [group_id]

    async def _insert(
        self, conn: Connection, req: NetCreatePort, project_id: UUID, security: bool
    ) -> UUID:
        values = {
            **req.model_dump(),
            "project_id": project_id,
            "vnic_type": str(req.vnic_type),
            "vif_type": VIF_TYPES[req.vnic_type] if req.binding_host else "unbound",
            "port_security_enabled": security,
        }
        requests = None if req.fixed_ips is None else [f.model_dump() for f in req.fixed_ips]
        try:
            port_id = await net_ports.insert_port(conn, values, req.mac_address)
            await net_ports.allocate(
                conn, req.network_id, port_id, requests, owner=req.device_owner
            )
        except net_ports.AllocationError as exc:
            raise allocation_error(exc) from None
        except asyncpg.ForeignKeyViolationError:
            raise InvalidInput(f"binding:host_id {req.binding_host} is not a known host") from None
        return port_id

    @rpc
    async def net_update_port(self, ctx: RequestContext, req: NetUpdatePort) -> NetPort:
        if changed(req, "binding_host") and not ctx.is_admin:
            raise Forbidden("(rule:update_port:binding:host_id) is disallowed by policy")
        if changed(req, "device_owner"):
            _device_owner_allowed(ctx, req.device_owner)
        commands: list[Message] = []
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_ports.get_port(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise NotFound(f"Port {req.id} could not be found.", kind="PortNotFound")
            await self._apply(conn, ctx, req, row)
            port = await net_ports.get_port(conn, req.id, None)
            assert port is not None
            if port["binding_host"]:
                commands.append(await ensure_network_command(conn, port["network_id"]))
        model = port_model(port)
        if model.binding_host:
            commands.append(agent.EnsurePort(port=model, requested_chassis=model.binding_host))
        elif row["binding_host"]:
            commands.append(agent.DeletePort(port_id=model.id, network_id=model.network_id))
        await self._agents.cast(ctx, *commands)
        return NetPort(port=model)

    async def _apply(
        self, conn: Connection, ctx: RequestContext, req: NetUpdatePort, row: dict[str, Any]
    ) -> None:
        simple = (
            "name",
            "description",
            "admin_state_up",
            "device_id",
            "device_owner",
            "port_security_enabled",
        )
        changes: dict[str, Any] = {f: getattr(req, f) for f in simple if changed(req, f)}
        managed = row["device_owner"].startswith(MANAGED_OWNERS)
        if managed and {"fixed_ips", "device_id", "device_owner", "binding_host"} & set(req.fields):
            raise Conflict(
                f"Port {req.id} is managed by its {row['device_owner']}; change it there.",
                kind="L3PortInUse",
            )
        if changed(req, "vnic_type"):
            changes["binding_vnic_type"] = str(req.vnic_type)
        if changed(req, "binding_host"):
            changes["binding_host"] = req.binding_host
            vnic = VnicType(changes.get("binding_vnic_type", row["vnic_type"]))
            changes["binding_vif_type"] = VIF_TYPES[vnic] if req.binding_host else "unbound"
        security = changes.get("port_security_enabled", row["port_security_enabled"])
        groups = list(req.security_groups) if changed(req, "security_groups") else None
        if groups is None and not security and row["security_group_ids"]:
            raise Conflict(
                "Port has security group associated. Cannot disable port security or ip "
                "address until security group is removed.",
                kind="PortSecurityPortHasSecurityGroup",
            )
        if groups and not security:
            raise InvalidInput("a port without port security cannot have security groups")
        try:
            await net_networks.update_row(conn, "ports", req.id, changes)
        except asyncpg.ForeignKeyViolationError:
            raise InvalidInput(f"binding:host_id {req.binding_host} is not a known host") from None
        if groups is not None:
            await net_security.set_port_groups(
                conn, req.id, await _groups(conn, ctx, row["project_id"], tuple(groups))
            )
        if changed(req, "fixed_ips"):
            await net_ports.release_addresses(conn, req.id)
            try:
                await net_ports.allocate(
                    conn,
                    row["network_id"],
                    req.id,
                    [f.model_dump() for f in req.fixed_ips],
                    owner=row["device_owner"],
                )
            except net_ports.AllocationError as exc:
                raise allocation_error(exc) from None

    @rpc
    async def net_delete_port(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_ports.get_port(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise NotFound(f"Port {req.id} could not be found.", kind="PortNotFound")
            if row["device_owner"].startswith(MANAGED_OWNERS):
                raise Conflict(
                    f"Port {req.id} cannot be deleted directly via the port API: has device "
                    f"owner {row['device_owner']}.",
                    kind="L3PortInUse",
                )
            detached = await net_ports.floating_ips_on(conn, req.id)
            await net_ports.delete_port(conn, req.id)
            if charged(row["device_owner"]):
                await quotas.release(conn, row["project_id"], {"ports": 1})
        commands: list[Message] = [
            agent.DeleteFloatingIp(floating_ip_id=f["id"], router_id=f["router_id"])
            for f in detached
        ]
        commands.append(agent.DeletePort(port_id=req.id, network_id=row["network_id"]))
        await self._agents.cast(ctx, *commands)
        return Accepted(resource_id=req.id, request_id=ctx.request_id)
