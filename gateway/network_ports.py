"""Network v2.0 ports: create (fixed IPs, MAC, security groups, port security,
`binding:vnic_type`, `binding:host_id` for admins), list with Neutron's filters
(including `fixed_ips=ip_address=...`), show, update and delete."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import network_views as views
from gateway.errors import bad_request
from gateway.http import call, call_none, json, no_content
from gateway.network_requests import (
    PortBody,
    path_id,
    project_for,
    query_ids,
    query_project,
    resource_body,
)
from gateway.routing import Routes
from schemas.messages.conductor_network_api import (
    NetCreatePort,
    NetListPorts,
    NetPort,
    NetPorts,
    NetRef,
    NetUpdatePort,
)

routes = Routes("network", "/network/v2.0")

PORT_FIELDS = {
    "name",
    "description",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "security_groups",
    "port_security_enabled",
    "vnic_type",
    "binding_host",
    "device_id",
    "device_owner",
}


def _fixed_ip_filters(request: web.Request) -> dict[str, Any]:
    """`fixed_ips=ip_address=10.0.0.3` and `fixed_ips=subnet_id=<id>` (repeatable)."""
    found: dict[str, Any] = {}
    for raw in request.query.getall("fixed_ips", []):
        key, _, value = raw.partition("=")
        if key not in ("ip_address", "subnet_id") or not value:
            raise bad_request(f"Invalid fixed_ips filter {raw!r}: use ip_address= or subnet_id=")
        found[key] = value
    return found


@routes.get(
    "/ports",
    summary="List ports",
    query={
        "network_id": "the port's network",
        "device_id": "the device (server, router) using the port",
        "device_owner": "e.g. compute:nova, network:router_interface",
        "mac_address": "exact MAC",
        "name": "exact name",
        "status": "ACTIVE, DOWN, ...",
        "id": "port id (repeatable)",
        "fixed_ips": "ip_address=<ip> or subnet_id=<id>",
        "project_id": "owner project (tenant_id also accepted)",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_ports(request: web.Request) -> web.Response:
    query = request.query
    try:
        message = NetListPorts(
            ids=query_ids(request),
            network_id=query.get("network_id") or None,
            device_id=query.get("device_id"),
            device_owner=query.get("device_owner"),
            mac_address=query.get("mac_address"),
            name=query.get("name"),
            status=query.get("status"),
            project_id=query_project(request),
            **_fixed_ip_filters(request),
        )
    except ValueError as exc:
        raise bad_request(f"invalid port filter: {exc}") from None
    reply = await call(request, "net_list_ports", message, NetPorts)
    return json({"ports": [views.only_fields(request, views.port(p)) for p in reply.ports]})


@routes.get("/ports/{port_id}", summary="Show a port")
async def show_port(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "port_id", "Port"))
    reply = await call(request, "net_show_port", ref, NetPort)
    return json({"port": views.only_fields(request, views.port(reply.port))})


@routes.post("/ports", summary="Create a port", body=PortBody)
async def create_port(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "port", PortBody)
    assert isinstance(parsed, PortBody)
    if parsed.network_id is None:
        raise bad_request("a port needs a network_id")
    values = parsed.model_dump(include=PORT_FIELDS)
    try:
        message = NetCreatePort(
            network_id=parsed.network_id, project_id=project_for(parsed), **values
        )
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_create_port", message, NetPort)
    return json({"port": views.only_fields(request, views.port(reply.port))}, status=201)


@routes.put("/ports/{port_id}", summary="Update a port", body=PortBody)
async def update_port(request: web.Request) -> web.Response:
    port_id = path_id(request, "port_id", "Port")
    parsed = await resource_body(request, "port", PortBody)
    fields = parsed.changes()
    frozen = {"network_id", "mac_address", "project_id", "tenant_id"} & set(fields)
    if frozen:
        raise bad_request(f"Cannot update read-only attribute {sorted(frozen)[0]}")
    values = parsed.model_dump(include=PORT_FIELDS - {"mac_address"})
    values["fixed_ips"] = values["fixed_ips"] or ()
    values["security_groups"] = values["security_groups"] or ()
    if values["port_security_enabled"] is None:
        values["port_security_enabled"] = True
    try:
        message = NetUpdatePort(id=port_id, fields=fields, **values)
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_update_port", message, NetPort)
    return json({"port": views.only_fields(request, views.port(reply.port))})


@routes.delete("/ports/{port_id}", summary="Delete a port")
async def delete_port(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "port_id", "Port"))
    await call_none(request, "net_delete_port", ref)
    return no_content()
