"""Network v2.0 routers (external gateway, interfaces) and floating IPs (allocate,
associate with a port, disassociate, release)."""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from gateway import network_views as views
from gateway.errors import bad_request
from gateway.http import body, call, call_none, json, no_content, parse
from gateway.network_requests import (
    FloatingIpBody,
    GatewayBody,
    RouterBody,
    RouterInterfaceBody,
    path_id,
    project_for,
    query_ids,
    query_project,
    resource_body,
)
from gateway.routing import Routes
from schemas.messages.conductor_network_api import (
    GatewayRequest,
    NetCreateFloatingIp,
    NetCreateRouter,
    NetFloatingIp,
    NetFloatingIps,
    NetListFloatingIps,
    NetListRouters,
    NetRef,
    NetRouter,
    NetRouterInterface,
    NetRouterInterfaceReply,
    NetRouters,
    NetUpdateFloatingIp,
    NetUpdateRouter,
)

routes = Routes("network", "/network/v2.0")


def _gateway(given: GatewayBody | None) -> GatewayRequest | None:
    if given is None:
        return None
    try:
        return GatewayRequest.model_validate(given.model_dump(exclude={"qos_policy_id"}))
    except ValueError as exc:
        raise bad_request(f"Invalid input for external_gateway_info: {exc}") from None


@routes.get(
    "/routers",
    summary="List routers",
    query={
        "name": "exact name",
        "id": "router id (repeatable)",
        "project_id": "owner project (tenant_id also accepted)",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_routers(request: web.Request) -> web.Response:
    message = NetListRouters(
        ids=query_ids(request), name=request.query.get("name"), project_id=query_project(request)
    )
    reply = await call(request, "net_list_routers", message, NetRouters)
    return json({"routers": [views.only_fields(request, views.router(r)) for r in reply.routers]})


@routes.get("/routers/{router_id}", summary="Show a router")
async def show_router(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "router_id", "Router"))
    reply = await call(request, "net_show_router", ref, NetRouter)
    return json({"router": views.only_fields(request, views.router(reply.router))})


@routes.post("/routers", summary="Create a router", body=RouterBody)
async def create_router(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "router", RouterBody)
    assert isinstance(parsed, RouterBody)
    message = NetCreateRouter(
        **parsed.model_dump(include={"name", "description", "admin_state_up"}),
        external_gateway=_gateway(parsed.external_gateway_info),
        project_id=project_for(parsed),
    )
    reply = await call(request, "net_create_router", message, NetRouter)
    return json({"router": views.router(reply.router)}, status=201)


@routes.put(
    "/routers/{router_id}",
    summary="Update a router (set or clear its external gateway)",
    body=RouterBody,
)
async def update_router(request: web.Request) -> web.Response:
    router_id = path_id(request, "router_id", "Router")
    parsed = await resource_body(request, "router", RouterBody)
    assert isinstance(parsed, RouterBody)
    fields = tuple(
        "external_gateway" if f == "external_gateway_info" else f for f in parsed.changes()
    )
    frozen = {"project_id", "tenant_id"} & set(fields)
    if frozen:
        raise bad_request(f"Cannot update read-only attribute {sorted(frozen)[0]}")
    message = NetUpdateRouter(
        id=router_id,
        fields=fields,
        **parsed.model_dump(include={"name", "description", "admin_state_up"}),
        external_gateway=_gateway(parsed.external_gateway_info),
    )
    reply = await call(request, "net_update_router", message, NetRouter)
    return json({"router": views.router(reply.router)})


@routes.delete("/routers/{router_id}", summary="Delete a router")
async def delete_router(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "router_id", "Router"))
    await call_none(request, "net_delete_router", ref)
    return no_content()


async def _interface(request: web.Request, method: str) -> dict[str, Any]:
    router_id = path_id(request, "router_id", "Router")
    parsed = parse(RouterInterfaceBody, await body(request), "router interface")
    message = NetRouterInterface(router_id=router_id, **parsed.model_dump())
    reply = await call(request, method, message, NetRouterInterfaceReply)
    return {
        "id": str(reply.router_id),
        "network_id": str(reply.network_id),
        "subnet_id": str(reply.subnet_id),
        "subnet_ids": [str(reply.subnet_id)],
        "port_id": str(reply.port_id),
        "project_id": str(reply.project_id),
        "tenant_id": str(reply.project_id),
        "tags": [],
    }


@routes.put(
    "/routers/{router_id}/add_router_interface",
    summary="Attach a subnet (or an unbound port) to a router",
    body=RouterInterfaceBody,
)
async def add_router_interface(request: web.Request) -> web.Response:
    return json(await _interface(request, "net_add_router_interface"))


@routes.put(
    "/routers/{router_id}/remove_router_interface",
    summary="Detach a subnet or port from a router",
    body=RouterInterfaceBody,
)
async def remove_router_interface(request: web.Request) -> web.Response:
    return json(await _interface(request, "net_remove_router_interface"))


# ------------------------------------------------------------------------ floating IPs


@routes.get(
    "/floatingips",
    summary="List floating IPs",
    query={
        "floating_ip_address": "exact address",
        "floating_network_id": "the external network",
        "port_id": "the associated port",
        "router_id": "the router the association goes through",
        "status": "ACTIVE or DOWN",
        "id": "floating IP id (repeatable)",
        "project_id": "owner project (tenant_id also accepted)",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_floating_ips(request: web.Request) -> web.Response:
    query = request.query
    try:
        message = NetListFloatingIps(
            ids=query_ids(request),
            floating_ip_address=query.get("floating_ip_address"),
            floating_network_id=query.get("floating_network_id") or None,
            port_id=query.get("port_id") or None,
            router_id=query.get("router_id") or None,
            status=query.get("status"),
            project_id=query_project(request),
        )
    except ValueError as exc:
        raise bad_request(f"invalid floating IP filter: {exc}") from None
    if message.floating_ip_address is not None:
        _address(message.floating_ip_address)
    reply = await call(request, "net_list_floating_ips", message, NetFloatingIps)
    shown = [views.only_fields(request, views.floating_ip(f)) for f in reply.floating_ips]
    return json({"floatingips": shown})


def _address(raw: str) -> None:
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        raise bad_request(f"'{raw}' is not a valid IP address") from None


@routes.get("/floatingips/{floating_ip_id}", summary="Show a floating IP")
async def show_floating_ip(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "floating_ip_id", "Floating IP"))
    reply = await call(request, "net_show_floating_ip", ref, NetFloatingIp)
    return json({"floatingip": views.only_fields(request, views.floating_ip(reply.floating_ip))})


@routes.post("/floatingips", summary="Allocate a floating IP", body=FloatingIpBody)
async def create_floating_ip(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "floatingip", FloatingIpBody)
    assert isinstance(parsed, FloatingIpBody)
    if parsed.floating_network_id is None:
        raise bad_request("a floating IP needs a floating_network_id")
    try:
        message = NetCreateFloatingIp(
            floating_network_id=parsed.floating_network_id,
            **parsed.model_dump(
                include={"floating_ip_address", "port_id", "fixed_ip_address", "description"}
            ),
            project_id=project_for(parsed),
        )
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_create_floating_ip", message, NetFloatingIp)
    return json({"floatingip": views.floating_ip(reply.floating_ip)}, status=201)


@routes.put(
    "/floatingips/{floating_ip_id}",
    summary="Associate a floating IP with a port (port_id) or disassociate it (null)",
    body=FloatingIpBody,
)
async def update_floating_ip(request: web.Request) -> web.Response:
    floating_ip_id = path_id(request, "floating_ip_id", "Floating IP")
    parsed = await resource_body(request, "floatingip", FloatingIpBody)
    fields = parsed.changes()
    frozen = set(fields) - {"port_id", "fixed_ip_address", "description"}
    if frozen:
        raise bad_request(f"Cannot update read-only attribute {sorted(frozen)[0]}")
    if "fixed_ip_address" in fields and "port_id" not in fields:
        raise bad_request("fixed_ip_address needs a port_id")
    try:
        message = NetUpdateFloatingIp(
            id=floating_ip_id,
            fields=fields,
            **parsed.model_dump(include={"port_id", "fixed_ip_address", "description"}),
        )
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_update_floating_ip", message, NetFloatingIp)
    return json({"floatingip": views.floating_ip(reply.floating_ip)})


@routes.delete("/floatingips/{floating_ip_id}", summary="Release a floating IP")
async def delete_floating_ip(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "floating_ip_id", "Floating IP"))
    await call_none(request, "net_delete_floating_ip", ref)
    return no_content()
