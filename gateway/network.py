"""Network v2.0 (a Neutron subset): the extensions list, networks, subnets and quotas.
Ports, security groups, routers and floating IPs live in the network_* modules.

Admins see every project's resources in lists (Neutron's behaviour) unless they filter
by `project_id`/`tenant_id`; anyone else sees their project's, plus shared and external
networks and their subnets.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from gateway import network_views as views
from gateway.errors import HttpError, bad_request, not_found
from gateway.http import body, call, call_none, json, no_content, parse, project_of
from gateway.network_requests import (
    NetworkBody,
    QuotaBody,
    SubnetBody,
    is_admin,
    path_id,
    project_for,
    query_bool,
    query_ids,
    query_project,
    resource_body,
)
from gateway.routing import Access, Routes
from schemas.messages.conductor_network_api import (
    NetCreateNetwork,
    NetCreateSubnet,
    NetListNetworks,
    NetListSubnets,
    NetNetwork,
    NetNetworks,
    NetQuota,
    NetRef,
    NetShowQuota,
    NetSubnet,
    NetSubnets,
    NetUpdateNetwork,
    NetUpdateQuota,
    NetUpdateSubnet,
)

routes = Routes("network", "/network/v2.0")

# (alias, name, description) of every extension this API implements
EXTENSIONS = (
    ("router", "Neutron L3 Router", "Routers with an external gateway and interfaces."),
    ("external-net", "Neutron external network", "Networks marked router:external."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "enable_snat."),
    ("security-group", "security-group", "Security groups and their rules."),
    ("stateful-security-group", "Stateful security group", "The stateful attribute."),
    ("port-security", "Port Security", "port_security_enabled on networks and ports."),
    ("binding", "Port Binding", "binding:host_id, binding:vnic_type, binding:vif_type."),
    ("net-mtu", "Network MTU", "The mtu attribute of networks."),
    ("project-id", "project_id field enabled", "project_id beside tenant_id."),
    ("quotas", "Quota management support", "Per-project quotas."),
    ("quota_details", "Quota details management support", "Limits with usage."),
    ("standard-attr-description", "standard-attr-description", "description attributes."),
    ("standard-attr-revisions", "Resource revision numbers", "revision_number attributes."),
    ("standard-attr-timestamp", "Resource timestamps", "created_at and updated_at."),
)
UPDATED = "2026-01-01T00:00:00-00:00"
QUOTA_NAMES = (
    "network",
    "subnet",
    "port",
    "router",
    "floatingip",
    "security_group",
    "security_group_rule",
)


def _extension(alias: str, name: str, description: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "updated": UPDATED,
        "links": [],
    }


@routes.get("/extensions", summary="List the API extensions this network service implements")
async def list_extensions(request: web.Request) -> web.Response:
    return json({"extensions": [_extension(*e) for e in EXTENSIONS]})


@routes.get("/extensions/{alias}", summary="Show an API extension")
async def show_extension(request: web.Request) -> web.Response:
    alias = request.match_info["alias"]
    for extension in EXTENSIONS:
        if extension[0] == alias:
            return json({"extension": _extension(*extension)})
    raise not_found(f"Extension with alias {alias} does not exist", kind="ExtensionNotFound")


# ---------------------------------------------------------------------------- networks


def _network(request: web.Request, reply: NetNetwork) -> dict[str, Any]:
    return views.only_fields(request, views.network(reply.network, admin=is_admin(request)))


@routes.get(
    "/networks",
    summary="List networks",
    query={
        "name": "exact name",
        "id": "network id (repeatable)",
        "router:external": "true/false",
        "shared": "true/false",
        "project_id": "owner project (tenant_id also accepted)",
        "status": "ACTIVE, DOWN, ...",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_networks(request: web.Request) -> web.Response:
    message = NetListNetworks(
        ids=query_ids(request),
        name=request.query.get("name"),
        external=query_bool(request, "router:external"),
        shared=query_bool(request, "shared"),
        project_id=query_project(request),
        status=request.query.get("status"),
    )
    reply = await call(request, "net_list_networks", message, NetNetworks)
    admin = is_admin(request)
    shown = [views.only_fields(request, views.network(n, admin=admin)) for n in reply.networks]
    return json({"networks": shown})


@routes.get("/networks/{network_id}", summary="Show a network")
async def show_network(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "network_id", "Network"))
    reply = await call(request, "net_show_network", ref, NetNetwork)
    return json({"network": _network(request, reply)})


@routes.post("/networks", summary="Create a network", body=NetworkBody)
async def create_network(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "network", NetworkBody)
    assert isinstance(parsed, NetworkBody)
    project_of(request)
    message = NetCreateNetwork(
        **parsed.model_dump(
            include={
                "name",
                "description",
                "admin_state_up",
                "shared",
                "external",
                "port_security_enabled",
                "mtu",
            }
        ),
        project_id=project_for(parsed),
    )
    reply = await call(request, "net_create_network", message, NetNetwork)
    return json({"network": _network(request, reply)}, status=201)


@routes.put("/networks/{network_id}", summary="Update a network", body=NetworkBody)
async def update_network(request: web.Request) -> web.Response:
    network_id = path_id(request, "network_id", "Network")
    parsed = await resource_body(request, "network", NetworkBody)
    fields = parsed.changes()
    if {"project_id", "tenant_id", "mtu"} & set(fields):
        raise bad_request("Cannot update read-only attribute project_id, tenant_id or mtu")
    message = NetUpdateNetwork(
        id=network_id,
        fields=fields,
        **parsed.model_dump(
            include={
                "name",
                "description",
                "admin_state_up",
                "shared",
                "external",
                "port_security_enabled",
            }
        ),
    )
    reply = await call(request, "net_update_network", message, NetNetwork)
    return json({"network": _network(request, reply)})


@routes.delete("/networks/{network_id}", summary="Delete a network and its subnets")
async def delete_network(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "network_id", "Network"))
    await call_none(request, "net_delete_network", ref)
    return no_content()


# ----------------------------------------------------------------------------- subnets


@routes.get(
    "/subnets",
    summary="List subnets",
    query={
        "network_id": "the subnet's network",
        "name": "exact name",
        "id": "subnet id (repeatable)",
        "cidr": "exact CIDR",
        "ip_version": "4 or 6",
        "project_id": "owner project (tenant_id also accepted)",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_subnets(request: web.Request) -> web.Response:
    network = request.query.get("network_id")
    cidr = request.query.get("cidr")
    if cidr is not None:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise bad_request(f"invalid subnet filter: cidr {cidr!r} is not a CIDR") from None
    try:
        message = NetListSubnets(
            ids=query_ids(request),
            network_id=network or None,
            name=request.query.get("name"),
            cidr=request.query.get("cidr"),
            ip_version=request.query.get("ip_version"),
            project_id=query_project(request),
        )
    except ValueError as exc:
        raise bad_request(f"invalid subnet filter: {exc}") from None
    reply = await call(request, "net_list_subnets", message, NetSubnets)
    shown = [views.only_fields(request, views.subnet(s)) for s in reply.subnets]
    return json({"subnets": shown})


@routes.get("/subnets/{subnet_id}", summary="Show a subnet")
async def show_subnet(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "subnet_id", "Subnet"))
    reply = await call(request, "net_show_subnet", ref, NetSubnet)
    return json({"subnet": views.only_fields(request, views.subnet(reply.subnet))})


def _gateway(parsed: SubnetBody) -> dict[str, Any]:
    if "gateway_ip" not in parsed.model_fields_set or parsed.gateway_ip == "auto":
        return {"gateway": "auto"}
    if parsed.gateway_ip is None:
        return {"gateway": "none"}
    return {"gateway": "given", "gateway_ip": parsed.gateway_ip}


@routes.post("/subnets", summary="Create a subnet", body=SubnetBody)
async def create_subnet(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "subnet", SubnetBody)
    assert isinstance(parsed, SubnetBody)
    if parsed.network_id is None or parsed.cidr is None:
        raise bad_request("a subnet needs network_id and cidr (subnet pools are not supported)")
    _strict_cidr(parsed.cidr)
    values = parsed.model_dump(
        include={
            "network_id",
            "cidr",
            "ip_version",
            "name",
            "description",
            "allocation_pools",
            "enable_dhcp",
            "dns_nameservers",
            "host_routes",
        }
    )
    try:
        message = NetCreateSubnet(**values, **_gateway(parsed), project_id=project_for(parsed))
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_create_subnet", message, NetSubnet)
    return json({"subnet": views.only_fields(request, views.subnet(reply.subnet))}, status=201)


def _strict_cidr(cidr: str) -> None:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise bad_request(
            f"Invalid input for cidr. Reason: '{cidr}' is not a valid IP subnet."
        ) from None
    if str(net) != cidr.strip():
        raise bad_request(
            f"Invalid input for cidr. Reason: '{cidr}' isn't a recommended CIDR, "
            f"'{net}' should be specified instead."
        )


@routes.put("/subnets/{subnet_id}", summary="Update a subnet", body=SubnetBody)
async def update_subnet(request: web.Request) -> web.Response:
    subnet_id = path_id(request, "subnet_id", "Subnet")
    parsed = await resource_body(request, "subnet", SubnetBody)
    fields = parsed.changes()
    frozen = {"network_id", "cidr", "ip_version", "project_id", "tenant_id"} & set(fields)
    if frozen:
        raise bad_request(f"Cannot update read-only attribute {sorted(frozen)[0]}")
    values = parsed.model_dump(
        include={
            "name",
            "description",
            "gateway_ip",
            "allocation_pools",
            "enable_dhcp",
            "dns_nameservers",
            "host_routes",
        }
    )
    if values["gateway_ip"] == "auto":
        values["gateway_ip"] = None
    try:
        message = NetUpdateSubnet(id=subnet_id, fields=fields, **values)
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_update_subnet", message, NetSubnet)
    return json({"subnet": views.only_fields(request, views.subnet(reply.subnet))})


@routes.delete("/subnets/{subnet_id}", summary="Delete a subnet")
async def delete_subnet(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "subnet_id", "Subnet"))
    await call_none(request, "net_delete_subnet", ref)
    return no_content()


# ------------------------------------------------------------------------------ quotas


def _quota_project(request: web.Request) -> Any:
    return path_id(request, "project_id", "Project")


@routes.get("/quotas/{project_id}", summary="Show a project's network quotas")
async def show_quota(request: web.Request) -> web.Response:
    reply = await call(
        request, "net_show_quota", NetShowQuota(project_id=_quota_project(request)), NetQuota
    )
    return json({"quota": {name: reply.details[name].limit for name in QUOTA_NAMES}})


@routes.get("/quotas/{project_id}/details", summary="Show a project's quotas with usage")
async def show_quota_details(request: web.Request) -> web.Response:
    reply = await call(
        request, "net_show_quota", NetShowQuota(project_id=_quota_project(request)), NetQuota
    )
    details = {name: reply.details[name].model_dump() for name in QUOTA_NAMES}
    return json({"quota": details})


@routes.put(
    "/quotas/{project_id}",
    summary="Set a project's network quotas (admin)",
    access=Access.ADMIN,
    body=QuotaBody,
)
async def update_quota(request: web.Request) -> web.Response:
    project_id = _quota_project(request)
    parsed = parse(QuotaBody, await body(request), "quota")
    try:
        message = NetUpdateQuota(project_id=project_id, limits=parsed.quota)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    reply = await call(request, "net_update_quota", message, NetQuota)
    return json({"quota": {name: reply.details[name].limit for name in QUOTA_NAMES}})
