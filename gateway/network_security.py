"""Network v2.0 security groups and security group rules."""

from __future__ import annotations

from aiohttp import web

from gateway import network_views as views
from gateway.errors import bad_request
from gateway.http import call, call_none, json, no_content
from gateway.network_requests import (
    RuleBody,
    SecurityGroupBody,
    path_id,
    project_for,
    query_ids,
    query_project,
    resource_body,
)
from gateway.routing import Routes
from schemas.messages.conductor_network_api import (
    NetCreateRule,
    NetCreateSecurityGroup,
    NetListRules,
    NetListSecurityGroups,
    NetRef,
    NetRule,
    NetRules,
    NetSecurityGroup,
    NetSecurityGroups,
    NetUpdateSecurityGroup,
)

routes = Routes("network", "/network/v2.0")


@routes.get(
    "/security-groups",
    summary="List security groups (the project's default group is made on first use)",
    query={
        "name": "exact name",
        "id": "group id (repeatable)",
        "project_id": "owner project (tenant_id also accepted)",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_security_groups(request: web.Request) -> web.Response:
    message = NetListSecurityGroups(
        ids=query_ids(request), name=request.query.get("name"), project_id=query_project(request)
    )
    reply = await call(request, "net_list_security_groups", message, NetSecurityGroups)
    shown = [views.only_fields(request, views.security_group(g)) for g in reply.security_groups]
    return json({"security_groups": shown})


@routes.get("/security-groups/{group_id}", summary="Show a security group")
async def show_security_group(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "group_id", "Security group"))
    reply = await call(request, "net_show_security_group", ref, NetSecurityGroup)
    shown = views.only_fields(request, views.security_group(reply.security_group))
    return json({"security_group": shown})


@routes.post("/security-groups", summary="Create a security group", body=SecurityGroupBody)
async def create_security_group(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "security_group", SecurityGroupBody)
    assert isinstance(parsed, SecurityGroupBody)
    message = NetCreateSecurityGroup(
        **parsed.model_dump(include={"name", "description", "stateful"}),
        project_id=project_for(parsed),
    )
    reply = await call(request, "net_create_security_group", message, NetSecurityGroup)
    shown = views.only_fields(request, views.security_group(reply.security_group))
    return json({"security_group": shown}, status=201)


@routes.put(
    "/security-groups/{group_id}", summary="Update a security group", body=SecurityGroupBody
)
async def update_security_group(request: web.Request) -> web.Response:
    group_id = path_id(request, "group_id", "Security group")
    parsed = await resource_body(request, "security_group", SecurityGroupBody)
    fields = parsed.changes()
    if set(fields) - {"name", "description"}:
        raise bad_request(f"Cannot update read-only attribute {sorted(set(fields))[0]}")
    message = NetUpdateSecurityGroup(
        id=group_id, fields=fields, **parsed.model_dump(include={"name", "description"})
    )
    reply = await call(request, "net_update_security_group", message, NetSecurityGroup)
    return json({"security_group": views.security_group(reply.security_group)})


@routes.delete("/security-groups/{group_id}", summary="Delete a security group")
async def delete_security_group(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "group_id", "Security group"))
    await call_none(request, "net_delete_security_group", ref)
    return no_content()


# ------------------------------------------------------------------------------- rules


@routes.get(
    "/security-group-rules",
    summary="List security group rules",
    query={
        "security_group_id": "the rule's group",
        "direction": "ingress or egress",
        "ethertype": "IPv4 or IPv6",
        "protocol": "tcp, udp, icmp, ...",
        "id": "rule id (repeatable)",
        "project_id": "owner project (tenant_id also accepted)",
        "fields": "attributes to show (repeatable)",
    },
)
async def list_rules(request: web.Request) -> web.Response:
    query = request.query
    try:
        message = NetListRules(
            ids=query_ids(request),
            security_group_id=query.get("security_group_id") or None,
            direction=query.get("direction"),
            ethertype=query.get("ethertype"),
            protocol=query.get("protocol"),
            project_id=query_project(request),
        )
    except ValueError as exc:
        raise bad_request(f"invalid rule filter: {exc}") from None
    reply = await call(request, "net_list_security_group_rules", message, NetRules)
    shown = [views.only_fields(request, views.rule(r)) for r in reply.rules]
    return json({"security_group_rules": shown})


@routes.get("/security-group-rules/{rule_id}", summary="Show a security group rule")
async def show_rule(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "rule_id", "Security group rule"))
    reply = await call(request, "net_show_security_group_rule", ref, NetRule)
    return json({"security_group_rule": views.only_fields(request, views.rule(reply.rule))})


@routes.post("/security-group-rules", summary="Create a security group rule", body=RuleBody)
async def create_rule(request: web.Request) -> web.Response:
    parsed = await resource_body(request, "security_group_rule", RuleBody)
    assert isinstance(parsed, RuleBody)
    values = parsed.model_dump(
        include={
            "security_group_id",
            "direction",
            "ethertype",
            "port_range_min",
            "port_range_max",
            "remote_ip_prefix",
            "remote_group_id",
            "description",
        }
    )
    protocol = None if parsed.protocol is None else str(parsed.protocol)
    try:
        message = NetCreateRule(protocol=protocol, **values)
    except ValueError as exc:
        raise bad_request(f"Invalid input for operation: {exc}") from None
    reply = await call(request, "net_create_security_group_rule", message, NetRule)
    return json({"security_group_rule": views.rule(reply.rule)}, status=201)


@routes.delete("/security-group-rules/{rule_id}", summary="Delete a security group rule")
async def delete_rule(request: web.Request) -> web.Response:
    ref = NetRef(id=path_id(request, "rule_id", "Security group rule"))
    await call_none(request, "net_delete_security_group_rule", ref)
    return no_content()
