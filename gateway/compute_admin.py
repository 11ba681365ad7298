"""Compute v2.1 flavors: list (`/flavors`, `/flavors/detail`), show, and the admin's
create, describe (2.55) and delete. Extra specs and access to private flavors are in
gateway/compute_admin_flavor_specs.py.

Shapes follow the requested microversion: `description` from 2.55, `extra_specs` in
the flavor from 2.61, `swap` an integer (0, not "") from 2.75. Flavor ids are UUIDs
here; a create that names another kind of id is refused with 400, and so is an
`rxtx_factor` other than 1.0 (a nova-network feature skymesh does not have).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from gateway.errors import bad_request, not_found
from gateway.http import body, call, call_none, json, parse, query_int, url, uuid_arg, wrapped
from gateway.microversion import Version, microversion
from gateway.routing import Access, Routes
from schemas.compute import Flavor
from schemas.messages.conductor_compute_admin import (
    CreateFlavor,
    DeleteFlavor,
    FlavorReply,
    FlavorsReply,
    GetFlavor,
    SearchFlavors,
    UpdateFlavor,
)

routes = Routes("compute", "/compute/v2.1")

FlavorName = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


def flavor_view(request: web.Request, flavor: Flavor, *, detail: bool = True) -> dict[str, Any]:
    """A flavor as Nova shows it at the request's microversion."""
    version = microversion(request)
    view: dict[str, Any] = {
        "id": str(flavor.id),
        "name": flavor.name,
        "links": [
            {"rel": "self", "href": url(request, f"/compute/v2.1/flavors/{flavor.id}")},
            {"rel": "bookmark", "href": url(request, f"/compute/flavors/{flavor.id}")},
        ],
    }
    if version >= (2, 55):
        view["description"] = flavor.description or None
    if not detail:
        return view
    view.update(
        {
            "ram": flavor.memory_mb,
            "disk": flavor.disk_gb,
            "vcpus": flavor.vcpus,
            "swap": _swap(flavor.swap_mb, version),
            "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
            "OS-FLV-DISABLED:disabled": flavor.disabled,
            "rxtx_factor": 1.0,
            "os-flavor-access:is_public": flavor.is_public,
        }
    )
    if version >= (2, 61):
        view["extra_specs"] = dict(flavor.extra_specs)
    return view


def next_links(request: web.Request, key: str, marker: str | None) -> dict[str, Any]:
    """`{key}_links` with the next page's URL when a `limit` filled this page (Nova's
    pagination links); `marker` is the last item's id, None when the page is short."""
    if marker is None:
        return {}
    query = {k: v for k, v in request.query.items() if k != "marker"}
    query["marker"] = marker
    href = url(request, f"{request.path}?{urlencode(query)}")
    return {f"{key}_links": [{"rel": "next", "href": href}]}


def _last(request: web.Request, ids: list[str]) -> str | None:
    limit = request.query.get("limit")
    return (
        ids[-1]
        if ids
        and limit is not None
        and limit.isascii()
        and limit.isdigit()
        and len(ids) == int(limit)
        else None
    )


def _swap(swap_mb: int, version: Version) -> int | str:
    return swap_mb if swap_mb or version >= (2, 75) else ""


class FlavorCreate(BaseModel):
    """`{"flavor": {...}}` of POST /flavors (Nova's field names)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: FlavorName
    ram: int = Field(ge=1, le=2**31 - 1)
    vcpus: int = Field(ge=1, le=2**31 - 1)
    disk: Count
    id: str | None = Field(None, max_length=255)
    swap: Count | None = 0
    ephemeral: Count = Field(0, alias="OS-FLV-EXT-DATA:ephemeral")
    rxtx_factor: float = Field(1.0, gt=0, le=3.4e38)
    is_public: bool = Field(True, alias="os-flavor-access:is_public")
    description: str | None = Field(None, max_length=65535)

    @field_validator("swap", mode="before")
    @classmethod
    def _empty_swap(cls, value: Any) -> Any:
        return 0 if value == "" else value

    @field_validator("rxtx_factor")
    @classmethod
    def _no_rxtx(cls, value: float) -> float:
        if value != 1.0:
            raise ValueError("rxtx_factor (a nova-network feature) is not supported: use 1.0")
        return value


class FlavorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(max_length=65535)


class FlavorBody(BaseModel):
    """The request document of create and update (for the OpenAPI document)."""

    flavor: dict[str, Any]


def _is_public(request: web.Request) -> bool | None:
    raw = request.query.get("is_public")
    if raw is None:
        return True
    lowered = raw.strip().lower()
    if lowered == "none":
        return None
    if lowered in ("1", "t", "true", "on", "y", "yes"):
        return True
    if lowered in ("0", "f", "false", "off", "n", "no"):
        return False
    raise bad_request(f"Invalid is_public filter [{raw}]")


def _marker(request: web.Request) -> UUID | None:
    raw = request.query.get("marker")
    if raw is None:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request(f"marker [{raw}] not found") from None


def _non_negative(request: web.Request, name: str) -> int | None:
    value = query_int(request, name)
    if value is not None and value < 0:
        raise bad_request(f"Invalid {name} filter [{value}]")
    return value


async def _search(request: web.Request) -> FlavorsReply:
    limit = query_int(request, "limit")
    if limit is not None and limit < 0:
        raise bad_request("limit must be a non-negative integer")
    search = SearchFlavors(
        is_public=_is_public(request),
        min_ram_mb=_non_negative(request, "minRam"),
        min_disk_gb=_non_negative(request, "minDisk"),
        limit=limit or None,
        marker=_marker(request),
    )
    if limit == 0:
        return FlavorsReply()
    return await call(request, "search_flavors", search, FlavorsReply)


FLAVOR_QUERY = {
    "is_public": "true (default), false or none (admins; others always see public ones)",
    "minRam": "at least this much RAM (MiB)",
    "minDisk": "at least this much disk (GiB)",
    "limit": "at most this many flavors",
    "marker": "the last flavor id of the previous page",
}


@routes.get("/flavors", summary="List flavors", query=FLAVOR_QUERY)
async def list_flavors(request: web.Request) -> web.Response:
    reply = await _search(request)
    last = _last(request, [str(f.id) for f in reply.flavors])
    return json(
        {
            "flavors": [flavor_view(request, f, detail=False) for f in reply.flavors],
            **next_links(request, "flavors", last),
        }
    )


@routes.get("/flavors/detail", summary="List flavors with details", query=FLAVOR_QUERY)
async def list_flavors_detail(request: web.Request) -> web.Response:
    reply = await _search(request)
    last = _last(request, [str(f.id) for f in reply.flavors])
    return json(
        {
            "flavors": [flavor_view(request, f) for f in reply.flavors],
            **next_links(request, "flavors", last),
        }
    )


@routes.get("/flavors/{flavor_id}", summary="Show a flavor")
async def show_flavor(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    reply = await call(request, "get_flavor", GetFlavor(flavor_id=flavor_id), FlavorReply)
    return json({"flavor": flavor_view(request, reply.flavor)})


def create_message(request: web.Request, given: FlavorCreate) -> CreateFlavor:
    if given.description is not None and microversion(request) < (2, 55):
        raise bad_request("description needs microversion 2.55 or later")
    flavor_id: UUID | None = None
    if given.id not in (None, "", "auto"):
        try:
            flavor_id = UUID(str(given.id))
        except ValueError:
            raise bad_request(f"flavor id {given.id!r} must be a UUID (or left out)") from None
    return CreateFlavor(
        name=given.name,
        vcpus=given.vcpus,
        memory_mb=given.ram,
        disk_gb=given.disk,
        ephemeral_gb=given.ephemeral,
        swap_mb=given.swap or 0,
        is_public=given.is_public,
        description=given.description,
        flavor_id=flavor_id,
    )


@routes.post(
    "/flavors", summary="Create a flavor (admin)", access=Access.ADMIN, body=FlavorBody, status=200
)
async def create_flavor(request: web.Request) -> web.Response:
    given = parse(FlavorCreate, wrapped(await body(request), "flavor"), "flavor")
    reply = await call(request, "create_flavor", create_message(request, given), FlavorReply)
    return json({"flavor": flavor_view(request, reply.flavor)})


@routes.put(
    "/flavors/{flavor_id}",
    summary="Update a flavor's description (admin, 2.55)",
    access=Access.ADMIN,
    body=FlavorBody,
)
async def update_flavor(request: web.Request) -> web.Response:
    if microversion(request) < (2, 55):
        raise not_found("The resource could not be found (updating a flavor needs 2.55).")
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    given = parse(FlavorUpdate, wrapped(await body(request), "flavor"), "flavor")
    message = UpdateFlavor(flavor_id=flavor_id, description=given.description)
    reply = await call(request, "update_flavor", message, FlavorReply)
    return json({"flavor": flavor_view(request, reply.flavor)})


@routes.delete(
    "/flavors/{flavor_id}", summary="Delete a flavor (admin)", access=Access.ADMIN, status=202
)
async def delete_flavor(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    await call_none(request, "delete_flavor", DeleteFlavor(flavor_id=flavor_id))
    return web.Response(status=202)
