"""The conductor's network API: tenant networks with one subnet, and floating IPs,
each counted against the project's quota (`networks`, `floating_ips`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg

from conductor.api_adapter import Call, no_key
from conductor.db.queries import floating_ips, networks, ports, quotas
from conductor.quota import charge
from conductor.records import model_from_row, network_from_row, subnet_from_row
from conductor.servers import identity
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages.common import Accepted
from schemas.messages.conductor_networks import (
    CreateFloatingIp,
    CreateNetwork,
    DeleteFloatingIp,
    DeleteNetwork,
    FloatingIpReply,
    ListNetworks,
    ListNetworksReply,
    NetworkReply,
)
from schemas.router import FloatingIp


class NetworkAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, on_commit: Callable[[], None] = lambda: None) -> None:
        self._pool = pool
        self._on_commit = on_commit

    def api_calls(self) -> dict[str, Call]:
        """The AMQP API commands this service answers (conductor/api_adapter.py)."""
        return {
            "networks.create": no_key(self.create_network),
            "networks.delete": no_key(self.delete_network),
            "networks.list": no_key(self.list_networks),
            "floating_ips.create": no_key(self.create_floating_ip),
            "floating_ips.delete": no_key(self.delete_floating_ip),
        }

    @rpc
    async def create_network(self, ctx: RequestContext, req: CreateNetwork) -> NetworkReply:
        project_id, _ = identity(ctx)
        if req.shared and not ctx.is_admin:
            raise InvalidInput("only admins create shared networks")
        async with self._pool.acquire() as conn, conn.transaction():
            await charge(conn, project_id, {"networks": 1, "subnets": 1})
            row = await networks.create_network(conn, project_id, req.name, shared=req.shared)
            subnet = await networks.create_subnet(
                conn,
                row["id"],
                project_id,
                req.cidr,
                gateway_ip=req.gateway_ip,
                name=f"{req.name}-subnet",
                enable_dhcp=req.enable_dhcp,
            )
        return NetworkReply(
            network=network_from_row(row, (subnet["id"],)), subnets=(subnet_from_row(subnet),)
        )

    @rpc
    async def list_networks(self, ctx: RequestContext, req: ListNetworks) -> ListNetworksReply:
        project_id, _ = identity(ctx)
        async with self._pool.acquire() as conn:
            rows = await networks.visible_networks(conn, project_id, name=req.name)
        return ListNetworksReply(networks=tuple(network_from_row(r) for r in rows))

    @rpc
    async def delete_network(self, ctx: RequestContext, req: DeleteNetwork) -> Accepted:
        project_id, _ = identity(ctx)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await networks.get_network(conn, req.network_id)
            if row is None or (row["project_id"] != project_id and not ctx.is_admin):
                raise NotFound(f"network {req.network_id} not found")
            if await ports.count_on_network(conn, req.network_id):
                raise Conflict(f"network {req.network_id} still has ports")
            subnets = await networks.subnets_of(conn, req.network_id)
            await networks.delete_network(conn, req.network_id)
            await quotas.release(conn, row["project_id"], {"networks": 1, "subnets": len(subnets)})
        return Accepted(resource_id=req.network_id, request_id=ctx.request_id)

    @rpc
    async def create_floating_ip(
        self, ctx: RequestContext, req: CreateFloatingIp
    ) -> FloatingIpReply:
        project_id, _ = identity(ctx)
        async with self._pool.acquire() as conn, conn.transaction():
            net = await networks.get_network(conn, req.floating_network_id)
            if net is None or not net["external"]:
                raise NotFound(f"external network {req.floating_network_id} not found")
            await charge(conn, project_id, {"floating_ips": 1})
            try:
                row = await floating_ips.allocate(
                    conn, project_id, net["id"], description=req.description
                )
            except ports.NoFreeAddress:
                raise Conflict(f"no free address on {net['name'] or net['id']}") from None
        return FloatingIpReply(floating_ip=_floating_ip(row))

    @rpc
    async def delete_floating_ip(self, ctx: RequestContext, req: DeleteFloatingIp) -> Accepted:
        project_id, _ = identity(ctx)
        scope: UUID | None = None if ctx.is_admin else project_id
        async with self._pool.acquire() as conn, conn.transaction():
            row = await floating_ips.get(conn, req.floating_ip_id, project_id=scope)
            if row is None:
                raise NotFound(f"floating IP {req.floating_ip_id} not found")
            await floating_ips.release(conn, req.floating_ip_id)
            await quotas.release(conn, row["project_id"], {"floating_ips": 1})
        return Accepted(resource_id=req.floating_ip_id, request_id=ctx.request_id)


def _floating_ip(row: dict[str, Any]) -> FloatingIp:
    return model_from_row(FloatingIp, row)
