"""Compute v2.1 server groups (`/os-server-groups`): a project's groups (every
project's for an admin with `all_projects`). Before 2.64 a group has `policies` (one of
them) and `metadata`; from 2.64 `policy` and `rules` (`max_server_per_host` for
anti-affinity). The soft policies need 2.15; `project_id`/`user_id` are shown from 2.13.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import bad_request
from gateway.http import (
    all_projects,
    body,
    call,
    call_none,
    json,
    parse,
    query_int,
    uuid_arg,
    wrapped,
)
from gateway.microversion import Version, microversion
from gateway.routing import Routes
from schemas.messages.conductor_compute_admin import (
    CreateServerGroup,
    DeleteServerGroup,
    GetServerGroup,
    ListServerGroups,
    ServerGroupReply,
    ServerGroupsReply,
)
from schemas.server_group import ServerGroup, ServerGroupPolicy
from schemas.types import Name

routes = Routes("compute", "/compute/v2.1")
SOFT = frozenset({ServerGroupPolicy.SOFT_AFFINITY, ServerGroupPolicy.SOFT_ANTI_AFFINITY})


class LegacyGroup(BaseModel):
    """Before 2.64: exactly one policy in `policies`."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    policies: list[ServerGroupPolicy] = Field(min_length=1, max_length=1)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_server_per_host: int | None = Field(None, ge=1, le=2**31 - 1)


class Group(BaseModel):
    """From 2.64: `policy` and optional `rules`."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    policy: ServerGroupPolicy
    rules: Rules = Rules()


class ServerGroupBody(BaseModel):
    server_group: dict[str, Any]


def group_view(request: web.Request, group: ServerGroup) -> dict[str, Any]:
    version = microversion(request)
    view: dict[str, Any] = {
        "id": str(group.id),
        "name": group.name,
        "members": [str(member) for member in group.members],
    }
    if version >= (2, 64):
        view["policy"] = group.policy.value
        view["rules"] = group.rules.model_dump(exclude_none=True)
    else:
        view["policies"] = [group.policy.value]
        view["metadata"] = {}
    if version >= (2, 13):
        view["project_id"] = str(group.project_id)
        view["user_id"] = str(group.user_id)
    return view


def create_message(version: Version, data: dict[str, Any]) -> CreateServerGroup:
    if version >= (2, 64):
        given = parse(Group, data, "server_group")
        name, policy, rules = given.name, given.policy, given.rules
        if rules.max_server_per_host is not None and policy is not ServerGroupPolicy.ANTI_AFFINITY:
            raise bad_request("rules are only valid with the anti-affinity policy")
    else:
        legacy = parse(LegacyGroup, data, "server_group")
        name, policy, rules = legacy.name, legacy.policies[0], Rules()
    if policy in SOFT and version < (2, 15):
        raise bad_request(f"policy {policy.value} needs microversion 2.15 or later")
    return parse(
        CreateServerGroup,
        {"name": name, "policy": policy, "rules": rules.model_dump()},
        "server_group",
    )


@routes.get(
    "/os-server-groups",
    summary="List server groups",
    query={"all_projects": "every project's (admins)", "limit": "page size", "offset": "skip"},
)
async def list_server_groups(request: web.Request) -> web.Response:
    limit, offset = query_int(request, "limit"), query_int(request, "offset", 0)
    if (limit is not None and limit < 1) or (offset is not None and offset < 0):
        raise bad_request("limit must be positive and offset not negative")
    message = ListServerGroups(limit=limit, offset=offset or 0)
    reply = await call(
        request,
        "list_server_groups",
        message,
        ServerGroupsReply,
        every_project=all_projects(request),
    )
    return json({"server_groups": [group_view(request, g) for g in reply.server_groups]})


@routes.post("/os-server-groups", summary="Create a server group", body=ServerGroupBody, status=200)
async def create_server_group(request: web.Request) -> web.Response:
    data = wrapped(await body(request), "server_group")
    message = create_message(microversion(request), data)
    reply = await call(request, "create_server_group", message, ServerGroupReply)
    return json({"server_group": group_view(request, reply.server_group)})


@routes.get("/os-server-groups/{group_id}", summary="Show a server group")
async def show_server_group(request: web.Request) -> web.Response:
    group_id = uuid_arg(request, "group_id", "Server group")
    reply = await call(
        request, "get_server_group", GetServerGroup(group_id=group_id), ServerGroupReply
    )
    return json({"server_group": group_view(request, reply.server_group)})


@routes.delete("/os-server-groups/{group_id}", summary="Delete a server group")
async def delete_server_group(request: web.Request) -> web.Response:
    group_id = uuid_arg(request, "group_id", "Server group")
    await call_none(request, "delete_server_group", DeleteServerGroup(group_id=group_id))
    return web.Response(status=204)
