"""Block Storage v3 (a Cinder subset): volumes (create empty or from an image, list,
show, update, delete, extend, reset status) and the one volume type. Quotas and limits
are in gateway/volume_quotas.py.

Clients reach these paths from the catalog URL `<base>/volume/v3` without a project id
in the path (openstacksdk and python-cinderclient both append `/volumes` to the
endpoint as given). A project's volumes are invisible to every other project (404).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import HttpError, bad_request, not_found
from gateway.http import (
    all_projects,
    body,
    call,
    caller,
    json,
    parse,
    query_int,
    query_uuid,
    uuid_arg,
    wrapped,
)
from gateway.microversion import microversion
from gateway.routing import Routes
from gateway.volume_views import (
    DEFAULT_TYPE,
    DEFAULT_TYPE_ID,
    volume_detail,
    volume_summary,
    volume_type_view,
)
from schemas.errors import Conflict, QuotaExceeded
from schemas.messages.common import Accepted
from schemas.messages.conductor_storage_api import (
    CreateBlockVolume,
    ExtendVolume,
    FindVolumes,
    FindVolumesReply,
    ResetVolumeStatus,
    UpdateVolume,
    VolumeReply,
)
from schemas.messages.conductor_volumes import DeleteVolume, GetVolume, GetVolumeReply
from schemas.storage import Volume

routes = Routes("volume", "/volume/v3")
NOT_DELETABLE = (
    "Invalid volume: Volume status must be available or error or error_restoring or "
    "error_extending or error_managing and must not be migrating, attached, belong to a "
    "group, have snapshots, awaiting a transfer, or be disassociated from snapshots after "
    "volume transfer."
)
LIST_QUERY = {
    "name": "exact name",
    "status": "volume status",
    "all_tenants": "admins: every project's volumes",
    "project_id": "admins: one project's volumes",
    "limit": "page size",
    "marker": "the last volume of the previous page",
}


class VolumeCreateBody(BaseModel):
    """Cinder's `volume` object; sources other than an image are not served."""

    model_config = ConfigDict(extra="ignore")

    size: int = Field(ge=1)
    name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=65535)
    imageRef: UUID | None = None
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    metadata: dict[str, str] | None = None
    volume_type: str | None = None
    multiattach: bool = False
    snapshot_id: str | None = None
    source_volid: str | None = None
    backup_id: str | None = None


class VolumeUpdateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=65535)
    metadata: dict[str, str] | None = None


def show(request: web.Request, volume: Volume) -> dict[str, Any]:
    return volume_detail(request, volume, microversion(request), admin=caller(request).is_admin)


def volume_type_name(given: str | None) -> str:
    if given in (None, "", DEFAULT_TYPE, DEFAULT_TYPE_ID, "default"):
        return DEFAULT_TYPE
    raise not_found(f"Volume type with name {given} could not be found.")


def quota_error(exc: QuotaExceeded) -> HttpError:
    """Cinder answers an exceeded quota with 413 overLimit."""
    if exc.details.get("resource") == "volumes":
        return HttpError(413, f"VolumeLimitExceeded: Maximum number of volumes exceeded ({exc})")
    return HttpError(
        413,
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        f"gigabytes quota ({exc})",
    )


async def _find(request: web.Request) -> FindVolumesReply:
    wanted: dict[str, Any] = {
        "name": request.query.get("name"),
        "status": request.query.get("status"),
        "all_projects": all_projects(request),
        "project_id": query_uuid(request, "project_id"),
        "limit": query_int(request, "limit", 1000),
        "marker": query_uuid(request, "marker"),
    }
    if wanted["project_id"] is not None and not caller(request).is_admin:
        wanted["project_id"] = None  # Cinder ignores the filter for non-admins
    message = parse(FindVolumes, {k: v for k, v in wanted.items() if v is not None}, "query")
    return await call(request, "find_volumes", message, FindVolumesReply)


def _page_links(request: web.Request, reply: FindVolumesReply) -> dict[str, Any]:
    if not reply.more or not reply.volumes:
        return {}
    query = {**request.query, "marker": str(reply.volumes[-1].id)}
    href = request.url.with_query(query)
    return {"volumes_links": [{"rel": "next", "href": str(href)}]}


@routes.get("/volumes", summary="List volumes", query=LIST_QUERY)
async def list_volumes(request: web.Request) -> web.Response:
    reply = await _find(request)
    volumes = [volume_summary(request, v) for v in reply.volumes]
    return json({"volumes": volumes, **_page_links(request, reply)})


@routes.get("/volumes/detail", summary="List volumes with details", query=LIST_QUERY)
async def list_volumes_detail(request: web.Request) -> web.Response:
    reply = await _find(request)
    volumes = [show(request, v) for v in reply.volumes]
    return json({"volumes": volumes, **_page_links(request, reply)})


@routes.post("/volumes", summary="Create a volume", body=VolumeCreateBody, status=202)
async def create_volume(request: web.Request) -> web.Response:
    given = parse(VolumeCreateBody, wrapped(await body(request), "volume"), "volume")
    if given.snapshot_id or given.source_volid or given.backup_id:
        raise bad_request("creating a volume from a snapshot, volume or backup is not supported")
    message = parse(
        CreateBlockVolume,
        {
            "size_gb": given.size,
            "name": given.name or "",
            "description": given.description or "",
            "availability_zone": given.availability_zone,
            "metadata": given.metadata or {},
            "image_id": given.imageRef,
            "volume_type": volume_type_name(given.volume_type),
            "multiattach": given.multiattach,
        },
        "volume",
    )
    try:
        reply = await call(request, "create_block_volume", message, VolumeReply)
    except QuotaExceeded as exc:
        raise quota_error(exc) from None
    return json({"volume": show(request, reply.volume)}, status=202)


@routes.get("/volumes/{volume_id}", summary="Show a volume")
async def show_volume(request: web.Request) -> web.Response:
    volume_id = uuid_arg(request, "volume_id", "volume")
    reply = await call(request, "get_volume", GetVolume(volume_id=volume_id), GetVolumeReply)
    return json({"volume": show(request, reply.volume)})


@routes.put("/volumes/{volume_id}", summary="Update a volume", body=VolumeUpdateBody)
async def update_volume(request: web.Request) -> web.Response:
    volume_id = uuid_arg(request, "volume_id", "volume")
    given = parse(VolumeUpdateBody, wrapped(await body(request), "volume"), "volume")
    fields = given.model_dump(exclude_unset=True)
    message = parse(UpdateVolume, {"volume_id": volume_id, **fields}, "volume")
    reply = await call(request, "update_volume", message, VolumeReply)
    return json({"volume": show(request, reply.volume)})


@routes.delete("/volumes/{volume_id}", summary="Delete a volume", status=202)
async def delete_volume(request: web.Request) -> web.Response:
    volume_id = uuid_arg(request, "volume_id", "volume")
    try:
        await call(request, "delete_volume", DeleteVolume(volume_id=volume_id), Accepted)
    except Conflict:
        raise bad_request(NOT_DELETABLE) from None
    return web.Response(status=202)


@routes.post("/volumes/{volume_id}/action", summary="os-extend or os-reset_status", status=202)
async def volume_action(request: web.Request) -> web.Response:
    volume_id = uuid_arg(request, "volume_id", "volume")
    data = await body(request)
    if "os-extend" in data:
        new_size = wrapped(data, "os-extend").get("new_size")
        message = parse(
            ExtendVolume, {"volume_id": volume_id, "new_size_gb": new_size}, "os-extend"
        )
        try:
            await call(request, "extend_volume", message, Accepted)
        except QuotaExceeded as exc:
            raise quota_error(exc) from None
    elif "os-reset_status" in data:
        status = wrapped(data, "os-reset_status").get("status")
        reset = parse(ResetVolumeStatus, {"volume_id": volume_id, "status": status}, "status")
        await call(request, "reset_volume_status", reset, Accepted)
    else:
        raise bad_request(f"There is no such action: {', '.join(sorted(data)) or 'none'}")
    return web.Response(status=202)


@routes.get("/types", summary="List volume types")
async def list_types(request: web.Request) -> web.Response:
    return json({"volume_types": [volume_type_view()]})


@routes.get("/types/{type_id}", summary="Show a volume type")
async def show_type(request: web.Request) -> web.Response:
    volume_type_name(request.match_info["type_id"])
    return json({"volume_type": volume_type_view()})
