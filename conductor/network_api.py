"""The Network API's networks and subnets (Neutron semantics).

Networks: `router:external` and `shared` are admin-only; a network is deleted with its
subnets unless a port other than a DHCP port is on it (409 NetworkInUse). Subnets: the
CIDR may not overlap another subnet of the network (400); without a gateway given the
first host address is it, and without pools the pool is every other host address; a
subnet with addresses in use is not deleted (409 SubnetInUse). Each change is followed
by `ensure_network` to the network agents (the logical switch and its DHCP options).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from conductor.db.queries import net_networks, quotas
from conductor.db.types import Connection
from conductor.network_api_common import (
    Agents,
    admin_only,
    changed,
    charge_neutron,
    ensure_network_command,
    network_model,
    owner,
    scope,
    subnet_model,
)
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, Forbidden, InvalidInput, NotFound
from schemas.messages import agent_network as agent
from schemas.messages.common import Accepted
from schemas.messages.conductor_network_api import (
    NetCreateNetwork,
    NetCreateSubnet,
    NetListNetworks,
    NetListSubnets,
    NetNetwork,
    NetNetworks,
    NetRef,
    NetSubnet,
    NetSubnets,
    NetUpdateNetwork,
    NetUpdateSubnet,
)
from schemas.network import Subnet


def _writable(
    ctx: RequestContext, row: dict[str, Any] | None, what: str, ident: UUID
) -> dict[str, Any]:
    """A row the caller may change: unseen is 404, seen but another project's is 403."""
    if row is None:
        raise NotFound(f"{what.capitalize()} {ident} could not be found.", kind=_kind(what))
    if not ctx.is_admin and row["project_id"] != ctx.project_id:
        raise Forbidden(f"disallowed by policy: {what} {ident} belongs to another project")
    return row


def _kind(what: str) -> str:
    return {"network": "NetworkNotFound", "subnet": "SubnetNotFound"}.get(what, "NotFound")


def default_pools(cidr: str, gateway: str | None) -> list[dict[str, str]]:
    """Neutron's default allocation pools: every host address but the gateway."""
    net = ipaddress.ip_network(cidr)
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.num_addresses > 2:
        first, last = first + 1, last - 1
    elif net.version == 6 and net.num_addresses > 1:
        first += 1
    pools, start = [], first
    gw = int(ipaddress.ip_address(gateway)) if gateway else None
    if gw is not None and first <= gw <= last:
        if gw > first:
            pools.append((first, gw - 1))
        start = gw + 1
    if start <= last:
        pools.append((start, last))
    return [
        {"start": str(ipaddress.ip_address(a)), "end": str(ipaddress.ip_address(b))}
        for a, b in pools
    ]


def _gateway(req: NetCreateSubnet) -> str | None:
    if req.gateway == "none":
        return None
    if req.gateway == "given":
        return req.gateway_ip
    net = ipaddress.ip_network(req.cidr)
    return str(net.network_address + 1) if net.num_addresses > 2 else None


def _checked_subnet(values: dict[str, Any]) -> Subnet:
    """The subnet's attributes checked together (gateway in the CIDR, pools inside it,
    not overlapping and not holding the gateway)."""
    try:
        return Subnet.model_validate(values)
    except ValueError as exc:
        raise InvalidInput(f"Invalid input for operation: {_first_error(exc)}") from None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first["msg"]).removeprefix("Value error, ")
    return str(exc)


class NetworkResources:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client) -> None:
        self._pool = pool
        self._agents = Agents(client)

    # ------------------------------------------------------------------------ networks

    @rpc
    async def net_list_networks(self, ctx: RequestContext, req: NetListNetworks) -> NetNetworks:
        async with self._pool.acquire() as conn:
            rows = await net_networks.list_networks(conn, scope(ctx), req.model_dump())
        return NetNetworks(networks=tuple(network_model(r) for r in rows))

    @rpc
    async def net_show_network(self, ctx: RequestContext, req: NetRef) -> NetNetwork:
        async with self._pool.acquire() as conn:
            row = await net_networks.get_network(conn, req.id, scope(ctx))
        if row is None:
            raise NotFound(f"Network {req.id} could not be found.", kind="NetworkNotFound")
        return NetNetwork(network=network_model(row))

    @rpc
    async def net_create_network(self, ctx: RequestContext, req: NetCreateNetwork) -> NetNetwork:
        for attribute in ("external", "shared"):
            if getattr(req, attribute):
                admin_only(ctx, "router:external" if attribute == "external" else attribute)
        project_id = owner(ctx, req.project_id)
        async with self._pool.acquire() as conn, conn.transaction():
            await charge_neutron(conn, project_id, {"networks": 1})
            try:
                network_id = await net_networks.insert_network(conn, project_id, req.model_dump())
            except asyncpg.ForeignKeyViolationError:
                raise NotFound(f"project {project_id} not found") from None
            command = await ensure_network_command(conn, network_id)
        await self._agents.cast(ctx, command)
        return NetNetwork(network=command.network)

    @rpc
    async def net_update_network(self, ctx: RequestContext, req: NetUpdateNetwork) -> NetNetwork:
        changes = {
            f: getattr(req, f)
            for f in (
                "name",
                "description",
                "admin_state_up",
                "shared",
                "external",
                "port_security_enabled",
            )
            if changed(req, f)
        }
        for attribute in ("external", "shared"):
            if attribute in changes:
                admin_only(ctx, "router:external" if attribute == "external" else attribute)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_networks.get_network(conn, req.id, scope(ctx), lock=True)
            _writable(ctx, row, "network", req.id)
            await net_networks.update_row(conn, "networks", req.id, changes)
            command = await ensure_network_command(conn, req.id)
        await self._agents.cast(ctx, command)
        return NetNetwork(network=command.network)

    @rpc
    async def net_delete_network(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = _writable(
                ctx,
                await net_networks.get_network(conn, req.id, scope(ctx), lock=True),
                "network",
                req.id,
            )
            if await net_networks.blocking_ports(conn, req.id):
                raise Conflict(
                    f"Unable to complete operation on network {req.id}. There are one or "
                    "more ports still in use on the network.",
                    kind="NetworkInUse",
                )
            await net_networks.delete_auto_ports(conn, req.id)
            subnets = await net_networks.delete_network(conn, req.id)
            await quotas.release(conn, row["project_id"], {"networks": 1, "subnets": subnets})
        await self._agents.cast(ctx, agent.DeleteNetwork(network_id=req.id))
        return Accepted(resource_id=req.id, request_id=ctx.request_id)

    # ------------------------------------------------------------------------- subnets

    @rpc
    async def net_list_subnets(self, ctx: RequestContext, req: NetListSubnets) -> NetSubnets:
        async with self._pool.acquire() as conn:
            rows = await net_networks.list_subnets(conn, scope(ctx), req.model_dump())
        return NetSubnets(subnets=tuple(subnet_model(r) for r in rows))

    @rpc
    async def net_show_subnet(self, ctx: RequestContext, req: NetRef) -> NetSubnet:
        async with self._pool.acquire() as conn:
            row = await net_networks.get_subnet(conn, req.id, scope(ctx))
        if row is None:
            raise NotFound(f"Subnet {req.id} could not be found.", kind="SubnetNotFound")
        return NetSubnet(subnet=subnet_model(row))

    @rpc
    async def net_create_subnet(self, ctx: RequestContext, req: NetCreateSubnet) -> NetSubnet:
        project_id = owner(ctx, req.project_id)
        if ipaddress.ip_network(req.cidr).version != req.ip_version:
            raise InvalidInput(f"cidr {req.cidr} is not an IPv{req.ip_version} network")
        gateway = _gateway(req)
        pools = [p.model_dump() for p in req.allocation_pools] or default_pools(req.cidr, gateway)
        values = {
            **req.model_dump(exclude={"gateway", "project_id"}),
            "id": uuid4(),
            "project_id": project_id,
            "gateway_ip": gateway,
            "allocation_pools": pools,
        }
        checked = _checked_subnet(values)
        async with self._pool.acquire() as conn, conn.transaction():
            network = await net_networks.get_network(conn, req.network_id, scope(ctx), lock=True)
            _writable(ctx, network, "network", req.network_id)
            await _no_overlap(conn, req.network_id, req.cidr)
            await charge_neutron(conn, project_id, {"subnets": 1})
            subnet_id = await net_networks.insert_subnet(
                conn, req.network_id, project_id, checked.model_dump(mode="json")
            )
            row = await net_networks.get_subnet(conn, subnet_id, None)
            command = await ensure_network_command(conn, req.network_id)
        await self._agents.cast(ctx, command)
        assert row is not None
        return NetSubnet(subnet=subnet_model(row))

    @rpc
    async def net_update_subnet(self, ctx: RequestContext, req: NetUpdateSubnet) -> NetSubnet:
        names = (
            "name",
            "description",
            "gateway_ip",
            "allocation_pools",
            "enable_dhcp",
            "dns_nameservers",
            "host_routes",
        )
        changes = {f: getattr(req, f) for f in names if changed(req, f)}
        async with self._pool.acquire() as conn, conn.transaction():
            row = _writable(
                ctx,
                await net_networks.get_subnet(conn, req.id, scope(ctx), lock=True),
                "subnet",
                req.id,
            )
            merged = subnet_model(row).model_dump()
            merged.update(changes)
            checked = _checked_subnet(merged).model_dump(mode="json")
            await net_networks.update_subnet(conn, req.id, {k: checked[k] for k in changes})
            updated = await net_networks.get_subnet(conn, req.id, None)
            command = await ensure_network_command(conn, row["network_id"])
        await self._agents.cast(ctx, command)
        assert updated is not None
        return NetSubnet(subnet=subnet_model(updated))

    @rpc
    async def net_delete_subnet(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = _writable(
                ctx,
                await net_networks.get_subnet(conn, req.id, scope(ctx), lock=True),
                "subnet",
                req.id,
            )
            if await net_networks.allocations_on(conn, req.id):
                raise Conflict(
                    f"Unable to complete operation on subnet {req.id}: One or more ports "
                    "have an IP allocation from this subnet.",
                    kind="SubnetInUse",
                )
            await net_networks.delete_subnet(conn, req.id)
            await quotas.release(conn, row["project_id"], {"subnets": 1})
            command = await ensure_network_command(conn, row["network_id"])
        await self._agents.cast(ctx, command)
        return Accepted(resource_id=req.id, request_id=ctx.request_id)


async def _no_overlap(conn: Connection, network_id: UUID, cidr: str) -> None:
    wanted = ipaddress.ip_network(cidr)
    for existing in await net_networks.cidrs_of(conn, network_id):
        other = ipaddress.ip_network(existing)
        if other.version == wanted.version and wanted.overlaps(other):
            raise InvalidInput(
                f"Invalid input for operation: Requested subnet with cidr: {cidr} for "
                f"network: {network_id} overlaps with another subnet."
            )
