"""Block Storage v3 quotas and limits (Cinder's os-quota-sets and /limits): the
volumes, gigabytes and snapshots a project may use. Members read their own project's;
admins read any and change limits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from gateway.errors import bad_request, not_found
from gateway.http import body, call, json, parse, project_of, wrapped
from gateway.routing import Access, Routes
from gateway.volume_views import DEFAULT_TYPE, limits_view, quota_set_view
from schemas.messages.conductor_storage_api import (
    VOLUME_QUOTAS,
    GetVolumeQuotas,
    SetVolumeQuotas,
    VolumeQuotasReply,
)

routes = Routes("volume", "/volume/v3")


def _project(request: web.Request) -> UUID:
    raw = request.match_info["project_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise not_found(f"Project {raw} could not be found.") from None


def _usage(request: web.Request) -> bool:
    return request.query.get("usage", "").lower() in ("true", "1", "yes")


@routes.get(
    "/os-quota-sets/{project_id}",
    summary="Show a project's block storage quotas",
    query={"usage": "True: limit, in_use and reserved of each"},
)
async def show_quotas(request: web.Request) -> web.Response:
    message = GetVolumeQuotas(project_id=_project(request))
    reply = await call(request, "get_volume_quotas", message, VolumeQuotasReply)
    return json(
        {"quota_set": quota_set_view(reply.project_id, reply.quotas, usage=_usage(request))}
    )


@routes.get("/os-quota-sets/{project_id}/defaults", summary="Default block storage quotas")
async def show_default_quotas(request: web.Request) -> web.Response:
    message = GetVolumeQuotas(project_id=_project(request), defaults=True)
    reply = await call(request, "get_volume_quotas", message, VolumeQuotasReply)
    return json({"quota_set": quota_set_view(reply.project_id, reply.quotas, usage=False)})


def _limits(data: dict[str, Any]) -> dict[str, int]:
    """The limits asked for; a per-type key (`volumes___DEFAULT__`) counts as the total."""
    limits: dict[str, int] = {}
    for key, value in data.items():
        resource = key.removesuffix(f"_{DEFAULT_TYPE}")
        if resource not in VOLUME_QUOTAS:
            raise bad_request(f"Bad key(s) in quota set: {key}")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad_request(f"Quota limit for {key} must be an integer")
        try:
            limits[resource] = int(value)
        except ValueError:
            raise bad_request(f"Quota limit for {key} must be an integer") from None
    return limits


@routes.put(
    "/os-quota-sets/{project_id}",
    summary="Set a project's block storage quotas",
    access=Access.ADMIN,
)
async def update_quotas(request: web.Request) -> web.Response:
    limits = _limits(wrapped(await body(request), "quota_set"))
    message = parse(
        SetVolumeQuotas, {"project_id": _project(request), "limits": limits}, "quota set"
    )
    reply = await call(request, "set_volume_quotas", message, VolumeQuotasReply)
    return json({"quota_set": quota_set_view(reply.project_id, reply.quotas, usage=False)})


@routes.get("/limits", summary="The caller's project's absolute block storage limits")
async def show_limits(request: web.Request) -> web.Response:
    message = GetVolumeQuotas(project_id=project_of(request))
    reply = await call(request, "get_volume_quotas", message, VolumeQuotasReply)
    return json(limits_view(reply.quotas))
