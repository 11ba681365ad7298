"""The Network API's routers (Neutron semantics).

A router's external gateway is a port on an external network (`network:router_gateway`)
holding an address of it; an interface is a port holding a subnet's gateway address
(`network:router_interface`), made for a subnet or taken from the caller's unbound
port. A router with interfaces is not deleted (409 RouterInUse); an interface or a
gateway that floating IPs use is not removed (409). Every change is followed by
`ensure_router` to the network agents with the subnets of its interfaces.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import net_networks, net_ports, net_routers, quotas
from conductor.db.types import Connection
from conductor.network_api_common import (
    Agents,
    changed,
    charge_neutron,
    owner,
    scope,
    subnet_model,
)
from conductor.network_api_ports import allocation_error
from conductor.records import model_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages import agent_network as agent
from schemas.messages.common import Accepted
from schemas.messages.conductor_network_api import (
    GatewayRequest,
    NetCreateRouter,
    NetListRouters,
    NetRef,
    NetRouter,
    NetRouterInterface,
    NetRouterInterfaceReply,
    NetRouters,
    NetUpdateRouter,
)
from schemas.router import ExternalGateway, Router

GATEWAY_OWNER = "network:router_gateway"
INTERFACE_OWNER = "network:router_interface"


def router_model(row: dict[str, Any]) -> Router:
    gateway = None
    if row["external_network_id"] is not None:
        gateway = ExternalGateway(
            network_id=row["external_network_id"],
            enable_snat=row["enable_snat"],
            external_fixed_ips=row["external_fixed_ips"],
            port_id=row["external_gateway_port_id"],
        )
    return model_from_row(Router, row, external_gateway=gateway)


def _not_found(router_id: UUID) -> NotFound:
    return NotFound(f"Router {router_id} could not be found", kind="RouterNotFound")


async def router_command(conn: Connection, router_id: UUID) -> agent.EnsureRouter:
    row = await net_routers.get_router(conn, router_id, None)
    assert row is not None
    model = router_model(row)
    subnet_ids = [i.subnet_id for i in model.interfaces]
    subnets = await net_networks.list_subnets(conn, None, {"ids": subnet_ids}) if subnet_ids else []
    return agent.EnsureRouter(router=model, subnets=tuple(subnet_model(s) for s in subnets))


class RouterResources:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client) -> None:
        self._pool = pool
        self._agents = Agents(client)

    @rpc
    async def net_list_routers(self, ctx: RequestContext, req: NetListRouters) -> NetRouters:
        async with self._pool.acquire() as conn:
            rows = await net_routers.list_routers(conn, scope(ctx), req.model_dump())
        return NetRouters(routers=tuple(router_model(r) for r in rows))

    @rpc
    async def net_show_router(self, ctx: RequestContext, req: NetRef) -> NetRouter:
        async with self._pool.acquire() as conn:
            row = await net_routers.get_router(conn, req.id, scope(ctx))
        if row is None:
            raise _not_found(req.id)
        return NetRouter(router=router_model(row))

    @rpc
    async def net_create_router(self, ctx: RequestContext, req: NetCreateRouter) -> NetRouter:
        project_id = owner(ctx, req.project_id)
        async with self._pool.acquire() as conn, conn.transaction():
            await charge_neutron(conn, project_id, {"routers": 1})
            try:
                router_id = await net_routers.insert_router(
                    conn, project_id, req.name, req.description, req.admin_state_up
                )
            except asyncpg.ForeignKeyViolationError:
                raise NotFound(f"project {project_id} not found") from None
            if req.external_gateway is not None:
                await _set_gateway(conn, ctx, router_id, project_id, req.external_gateway)
            command = await router_command(conn, router_id)
        await self._agents.cast(ctx, command)
        return NetRouter(router=command.router)

    @rpc
    async def net_update_router(self, ctx: RequestContext, req: NetUpdateRouter) -> NetRouter:
        changes = {
            f: getattr(req, f) for f in ("name", "description", "admin_state_up") if changed(req, f)
        }
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_routers.get_router(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise _not_found(req.id)
            await net_networks.update_row(conn, "routers", req.id, changes)
            if changed(req, "external_gateway"):
                await _replace_gateway(conn, ctx, row, req.external_gateway)
            command = await router_command(conn, req.id)
        await self._agents.cast(ctx, command)
        return NetRouter(router=command.router)

    @rpc
    async def net_delete_router(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_routers.get_router(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise _not_found(req.id)
            if row["interfaces"]:
                raise Conflict(f"Router {req.id} still has ports", kind="RouterInUse")
            await _replace_gateway(conn, ctx, row, None)
            await net_routers.delete_router(conn, req.id)
            await quotas.release(conn, row["project_id"], {"routers": 1})
        await self._agents.cast(ctx, agent.DeleteRouter(router_id=req.id))
        return Accepted(resource_id=req.id, request_id=ctx.request_id)

    @rpc
    async def net_add_router_interface(
        self, ctx: RequestContext, req: NetRouterInterface
    ) -> NetRouterInterfaceReply:
        if (req.subnet_id is None) == (req.port_id is None):
            raise InvalidInput("Bad router request: Either subnet_id or port_id must be specified")
        async with self._pool.acquire() as conn, conn.transaction():
            router = await net_routers.get_router(conn, req.router_id, scope(ctx), lock=True)
            if router is None:
                raise _not_found(req.router_id)
            if req.subnet_id is not None:
                port_id, subnet = await _interface_for_subnet(conn, ctx, router, req.subnet_id)
            else:
                assert req.port_id is not None
                port_id, subnet = await _interface_from_port(conn, ctx, router, req.port_id)
            await net_routers.add_interface(conn, req.router_id, port_id, subnet["id"])
            command = await router_command(conn, req.router_id)
        await self._agents.cast(ctx, command)
        return NetRouterInterfaceReply(
            router_id=req.router_id,
            project_id=router["project_id"],
            network_id=subnet["network_id"],
            subnet_id=subnet["id"],
            port_id=port_id,
        )

    @rpc
    async def net_remove_router_interface(
        self, ctx: RequestContext, req: NetRouterInterface
    ) -> NetRouterInterfaceReply:
        if req.subnet_id is None and req.port_id is None:
            raise InvalidInput("Bad router request: Either subnet_id or port_id must be specified")
        async with self._pool.acquire() as conn, conn.transaction():
            router = await net_routers.get_router(conn, req.router_id, scope(ctx), lock=True)
            if router is None:
                raise _not_found(req.router_id)
            found = await net_routers.interface(
                conn, req.router_id, subnet_id=req.subnet_id, port_id=req.port_id
            )
            if found is None:
                what = f"subnet {req.subnet_id}" if req.subnet_id else f"port {req.port_id}"
                raise NotFound(
                    f"Router {req.router_id} does not have an interface with {what}",
                    kind="RouterInterfaceNotFound",
                )
            if await net_routers.floating_ips_via(conn, req.router_id, found["subnet_id"]):
                raise Conflict(
                    f"Cannot remove the interface of router {req.router_id} on subnet "
                    f"{found['subnet_id']}: floating IPs use it.",
                    kind="RouterInterfaceInUseByFloatingIP",
                )
            port = await net_ports.get_port(conn, found["port_id"], None)
            assert port is not None
            await net_ports.delete_port(conn, found["port_id"])
            command = await router_command(conn, req.router_id)
        await self._agents.cast(
            ctx, command, agent.DeletePort(port_id=port["id"], network_id=port["network_id"])
        )
        return NetRouterInterfaceReply(
            router_id=req.router_id,
            project_id=router["project_id"],
            network_id=port["network_id"],
            subnet_id=found["subnet_id"],
            port_id=found["port_id"],
        )


async def _set_gateway(
    conn: Connection, ctx: RequestContext, router_id: UUID, project_id: UUID, gw: GatewayRequest
) -> None:
    network = await net_networks.get_network(conn, gw.network_id, scope(ctx))
    if network is None:
        raise NotFound(f"Network {gw.network_id} could not be found.", kind="NetworkNotFound")
    if not network["external"]:
        raise InvalidInput(
            f"Bad router request: Network {gw.network_id} is not a valid external network."
        )
    values = {
        "network_id": gw.network_id,
        "project_id": project_id,
        "name": "",
        "description": "",
        "admin_state_up": True,
        "device_id": str(router_id),
        "device_owner": GATEWAY_OWNER,
        "binding_host": None,
        "vnic_type": "normal",
        "vif_type": "unbound",
        "port_security_enabled": False,
    }
    requests = [f.model_dump() for f in gw.external_fixed_ips] or None
    try:
        port_id = await net_ports.insert_port(conn, values, None)
        await net_ports.allocate(conn, gw.network_id, port_id, requests, owner=GATEWAY_OWNER)
    except net_ports.AllocationError as exc:
        raise allocation_error(exc) from None
    await net_routers.set_gateway(conn, router_id, gw.network_id, port_id, gw.enable_snat)


async def _replace_gateway(
    conn: Connection, ctx: RequestContext, row: dict[str, Any], gw: GatewayRequest | None
) -> None:
    """Clear the router's gateway (refused while floating IPs use it), then set `gw`."""
    if row["external_network_id"] is not None:
        if (
            gw is not None
            and gw.network_id == row["external_network_id"]
            and not gw.external_fixed_ips
        ):  # the same gateway: only SNAT may change
            await net_routers.set_gateway(
                conn,
                row["id"],
                row["external_network_id"],
                row["external_gateway_port_id"],
                gw.enable_snat,
            )
            return
        if await net_routers.floating_ips_via(conn, row["id"]):
            raise Conflict(
                f"Gateway cannot be updated for router {row['id']}, since a gateway to "
                "external network is required by one or more floating IPs.",
                kind="RouterExternalGatewayInUseByFloatingIp",
            )
        await net_routers.set_gateway(conn, row["id"], None, None)
        if row["external_gateway_port_id"] is not None:
            await net_ports.delete_port(conn, row["external_gateway_port_id"])
    if gw is not None:
        await _set_gateway(conn, ctx, row["id"], row["project_id"], gw)


async def _interface_for_subnet(
    conn: Connection, ctx: RequestContext, router: dict[str, Any], subnet_id: UUID
) -> tuple[UUID, dict[str, Any]]:
    subnet = await net_networks.get_subnet(conn, subnet_id, scope(ctx))
    if subnet is None or not (ctx.is_admin or subnet["project_id"] == router["project_id"]):
        raise NotFound(f"Subnet {subnet_id} could not be found.", kind="SubnetNotFound")
    network = await net_networks.get_network(conn, subnet["network_id"], None)
    if network is not None and network["external"]:
        raise InvalidInput(
            f"Bad router request: subnet {subnet_id} is on an external network; set it as "
            "the router's gateway instead."
        )
    if subnet["gateway_ip"] is None:
        raise InvalidInput(f"Bad router request: Subnet {subnet_id} does not have a gateway IP.")
    if await net_routers.interface(conn, router["id"], subnet_id=subnet_id, port_id=None):
        raise InvalidInput(f"Bad router request: Router already has a port on subnet {subnet_id}.")
    values = {
        "network_id": subnet["network_id"],
        "project_id": router["project_id"],
        "name": "",
        "description": "",
        "admin_state_up": True,
        "device_id": str(router["id"]),
        "device_owner": INTERFACE_OWNER,
        "binding_host": None,
        "vnic_type": "normal",
        "vif_type": "unbound",
        "port_security_enabled": False,
    }
    request = [{"subnet_id": subnet_id, "ip_address": subnet["gateway_ip"]}]
    try:
        port_id = await net_ports.insert_port(conn, values, None)
        await net_ports.allocate(
            conn, subnet["network_id"], port_id, request, owner=INTERFACE_OWNER
        )
    except net_ports.AllocationError as exc:
        raise allocation_error(exc) from None
    return port_id, subnet


async def _interface_from_port(
    conn: Connection, ctx: RequestContext, router: dict[str, Any], port_id: UUID
) -> tuple[UUID, dict[str, Any]]:
    port = await net_ports.get_port(conn, port_id, scope(ctx), lock=True)
    if port is None:
        raise NotFound(f"Port {port_id} could not be found.", kind="PortNotFound")
    if port["device_id"] or port["device_owner"]:
        raise Conflict(
            f"Port {port_id} is in use by {port['device_owner'] or port['device_id']}",
            kind="PortInUse",
        )
    if len(port["fixed_ips"]) != 1:
        raise InvalidInput("Bad router request: Router port must have exactly one fixed IP")
    subnet = await net_networks.get_subnet(conn, port["fixed_ips"][0]["subnet_id"], None)
    assert subnet is not None
    if await net_routers.interface(conn, router["id"], subnet_id=subnet["id"], port_id=None):
        raise InvalidInput(
            f"Bad router request: Router already has a port on subnet {subnet['id']}."
        )
    await net_networks.update_row(
        conn, "ports", port_id, {"device_id": str(router["id"]), "device_owner": INTERFACE_OWNER}
    )
    # a router's port no longer counts against the project's ports (network_api_ports.charged)
    await quotas.release(conn, port["project_id"], {"ports": 1})
    return port_id, subnet
