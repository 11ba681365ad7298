"""Compute v2.1 quota sets (`/os-quota-sets/{project_id}`, `/detail`, `/defaults`;
admins update and revert) and `/limits` (the project's absolute limits and usage).

The resources shown follow the microversion as Nova's do: the network ones (floating
IPs, fixed IPs, security groups and rules) go at 2.36, the file injection ones at 2.57,
`maxImageMeta` at 2.39.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.errors import bad_request
from gateway.http import body, call, call_none, describe, json, project_of, wrapped
from gateway.microversion import Version, microversion
from gateway.routing import Access, Routes
from schemas.compute_admin import QuotaSet
from schemas.messages.conductor_compute_admin import (
    DeleteQuotaSet,
    GetQuotaSet,
    QuotaSetReply,
    UpdateQuotaSet,
)

routes = Routes("compute", "/compute/v2.1")

COMPUTE = ("cores", "instances", "key_pairs", "metadata_items", "ram")
GROUPS = ("server_group_members", "server_groups")
NETWORK = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
FILES = ("injected_file_content_bytes", "injected_file_path_bytes", "injected_files")

# quota resource -> the absolute limits it is shown as; (name, version it went away at)
LIMIT_NAMES: dict[str, tuple[tuple[str, Version | None], ...]] = {
    "ram": (("maxTotalRAMSize", None),),
    "instances": (("maxTotalInstances", None),),
    "cores": (("maxTotalCores", None),),
    "key_pairs": (("maxTotalKeypairs", None),),
    "floating_ips": (("maxTotalFloatingIps", (2, 36)),),
    "metadata_items": (("maxServerMeta", None), ("maxImageMeta", (2, 39))),
    "injected_files": (("maxPersonality", (2, 57)),),
    "injected_file_content_bytes": (("maxPersonalitySize", (2, 57)),),
    "security_groups": (("maxSecurityGroups", (2, 36)),),
    "security_group_rules": (("maxSecurityGroupRules", (2, 36)),),
    "server_groups": (("maxServerGroups", None),),
    "server_group_members": (("maxServerGroupMembers", None),),
}
USED_NAMES: dict[str, tuple[str, Version | None]] = {
    "ram": ("totalRAMUsed", None),
    "cores": ("totalCoresUsed", None),
    "instances": ("totalInstancesUsed", None),
    "floating_ips": ("totalFloatingIpsUsed", (2, 36)),
    "security_groups": ("totalSecurityGroupsUsed", (2, 36)),
    "server_groups": ("totalServerGroupsUsed", None),
}


def resources(version: Version) -> tuple[str, ...]:
    """The quota resources Nova shows at `version`."""
    shown: tuple[str, ...] = COMPUTE + GROUPS
    if version < (2, 36):
        shown += NETWORK
    if version < (2, 57):
        shown += FILES
    return tuple(sorted(shown))


def quota_view(
    request: web.Request, quota: QuotaSet, *, detail: bool = False, with_id: bool = True
) -> dict[str, Any]:
    view: dict[str, Any] = {"id": str(quota.project_id)} if with_id else {}
    for name in resources(microversion(request)):
        limit = quota.limits.get(name, -1)
        if detail:
            view[name] = {
                "limit": limit,
                "in_use": quota.in_use.get(name, 0),
                "reserved": quota.reserved.get(name, 0),
            }
        else:
            view[name] = limit
    return view


def limits_view(request: web.Request, quota: QuotaSet) -> dict[str, Any]:
    version = microversion(request)
    absolute: dict[str, int] = {}
    for resource, names in LIMIT_NAMES.items():
        for name, gone_at in names:
            if gone_at is None or version < gone_at:
                absolute[name] = quota.limits.get(resource, -1)
    for resource, (name, gone_at) in USED_NAMES.items():
        if gone_at is None or version < gone_at:
            absolute[name] = quota.in_use.get(resource, 0)
    return {"limits": {"rate": [], "absolute": absolute}}


def _project(request: web.Request) -> UUID:
    raw = request.match_info["project_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request(f"project id {raw!r} is not a project id") from None


async def _quota(request: web.Request, project_id: UUID, *, defaults: bool = False) -> QuotaSet:
    message = GetQuotaSet(project_id=project_id, defaults=defaults)
    return (await call(request, "get_quota_set", message, QuotaSetReply)).quota_set


@routes.get("/os-quota-sets/{project_id}", summary="Show a project's quotas")
async def show_quota_set(request: web.Request) -> web.Response:
    quota = await _quota(request, _project(request))
    return json({"quota_set": quota_view(request, quota)})


@routes.get("/os-quota-sets/{project_id}/detail", summary="Show a project's quotas and usage")
async def show_quota_set_detail(request: web.Request) -> web.Response:
    quota = await _quota(request, _project(request))
    return json({"quota_set": quota_view(request, quota, detail=True)})


@routes.get("/os-quota-sets/{project_id}/defaults", summary="Show the default quotas")
async def show_quota_defaults(request: web.Request) -> web.Response:
    quota = await _quota(request, _project(request), defaults=True)
    return json({"quota_set": quota_view(request, quota)})


class QuotaSetBody(BaseModel):
    quota_set: dict[str, Any]


class QuotaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = False
    limits: dict[str, int] = Field(default_factory=dict)


def update_message(version: Version, project_id: UUID, data: dict[str, Any]) -> UpdateQuotaSet:
    """Nova takes each limit as an integer (or a string of one) from -1 up, and only the
    resources of the requested microversion."""
    shown = set(resources(version))
    given = dict(data)
    force = given.pop("force", False)
    unknown = sorted(set(given) - shown)
    if unknown:
        raise bad_request(f"Invalid input for field/attribute quota_set: {', '.join(unknown)}")
    try:
        update = QuotaUpdate.model_validate({"force": force, "limits": given})
        return UpdateQuotaSet(project_id=project_id, limits=update.limits, force=update.force)
    except ValidationError as exc:
        raise bad_request(f"invalid quota_set: {describe(exc)}") from None


@routes.put(
    "/os-quota-sets/{project_id}",
    summary="Update a project's quotas (admin)",
    access=Access.ADMIN,
    body=QuotaSetBody,
)
async def update_quota_set(request: web.Request) -> web.Response:
    project_id = _project(request)
    data = wrapped(await body(request), "quota_set")
    message = update_message(microversion(request), project_id, data)
    reply = await call(request, "update_quota_set", message, QuotaSetReply)
    return json({"quota_set": quota_view(request, reply.quota_set, with_id=False)})


@routes.delete(
    "/os-quota-sets/{project_id}",
    summary="Revert a project's quotas to the defaults (admin)",
    access=Access.ADMIN,
    status=202,
)
async def revert_quota_set(request: web.Request) -> web.Response:
    await call_none(request, "delete_quota_set", DeleteQuotaSet(project_id=_project(request)))
    return web.Response(status=202)


@routes.get(
    "/limits",
    summary="The project's absolute limits and usage",
    query={"tenant_id": "another project's (admins)"},
)
async def show_limits(request: web.Request) -> web.Response:
    raw = request.query.get("tenant_id")
    project_id = project_of(request)
    if raw:
        try:
            project_id = UUID(raw)
        except ValueError:
            raise bad_request(f"tenant_id {raw!r} is not a project id") from None
    return json(limits_view(request, await _quota(request, project_id)))
