"""Compute v2.1 host aggregates (`/os-aggregates`, admin): create, show, rename or
re-zone, delete, and the actions add_host / remove_host / set_metadata. An aggregate is
named by Nova's integer id in paths; its `uuid` is shown from 2.41. Setting
`availability_zone` (on create, update or as metadata) puts its hosts in that zone for
the scheduler; a host is in one zone at most (409 on add_host, 400 on a metadata change,
as Nova answers)."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.errors import bad_request, not_found
from gateway.http import body, call, call_none, iso, json, parse, wrapped
from gateway.microversion import microversion
from gateway.routing import Access, Routes
from schemas.compute_admin import Aggregate
from schemas.messages.conductor_compute_admin import (
    AggregateReply,
    AggregatesReply,
    ChangeAggregateHost,
    CreateAggregate,
    DeleteAggregate,
    GetAggregate,
    ListAggregates,
    SetAggregateMetadata,
    UpdateAggregate,
)

routes = Routes("compute", "/compute/v2.1")
Text = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]


def aggregate_view(request: web.Request, aggregate: Aggregate) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": aggregate.number,
        "name": aggregate.name,
        "availability_zone": aggregate.availability_zone,
        "hosts": list(aggregate.hosts),
        "metadata": dict(aggregate.metadata),
        "created_at": iso(aggregate.created_at),
        "updated_at": iso(aggregate.updated_at),
        "deleted": False,
        "deleted_at": None,
    }
    if microversion(request) >= (2, 41):
        view["uuid"] = str(aggregate.id)
    return view


def _number(request: web.Request) -> int:
    raw = request.match_info["aggregate_id"]
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1 or int(raw) > 2**63 - 1:
        raise not_found(f"Aggregate {raw} could not be found.")
    return int(raw)


class AggregateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    availability_zone: Text | None = None


class AggregateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    availability_zone: Text | None = None


class HostRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: Text


class MetadataSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=255)],
        Annotated[str, StringConstraints(max_length=255)] | None,
    ] = Field(min_length=1)


class AggregateBody(BaseModel):
    aggregate: dict[str, Any]


class ActionBody(BaseModel):
    """One of add_host {host}, remove_host {host}, set_metadata {metadata}."""

    model_config = ConfigDict(extra="allow")


async def _answer(request: web.Request, method: str, message: Any) -> web.Response:
    reply = await call(request, method, message, AggregateReply)
    return json({"aggregate": aggregate_view(request, reply.aggregate)})


@routes.get("/os-aggregates", summary="List aggregates (admin)", access=Access.ADMIN)
async def list_aggregates(request: web.Request) -> web.Response:
    reply = await call(request, "list_aggregates", ListAggregates(), AggregatesReply)
    return json({"aggregates": [aggregate_view(request, a) for a in reply.aggregates]})


@routes.post(
    "/os-aggregates",
    summary="Create an aggregate, optionally an availability zone (admin)",
    access=Access.ADMIN,
    body=AggregateBody,
    status=200,
)
async def create_aggregate(request: web.Request) -> web.Response:
    given = parse(AggregateCreate, wrapped(await body(request), "aggregate"), "aggregate")
    message = parse(CreateAggregate, given.model_dump(), "aggregate")
    return await _answer(request, "create_aggregate", message)


@routes.get(
    "/os-aggregates/{aggregate_id}", summary="Show an aggregate (admin)", access=Access.ADMIN
)
async def show_aggregate(request: web.Request) -> web.Response:
    return await _answer(request, "get_aggregate", GetAggregate(number=_number(request)))


@routes.put(
    "/os-aggregates/{aggregate_id}",
    summary="Rename an aggregate or change its zone (admin)",
    access=Access.ADMIN,
    body=AggregateBody,
)
async def update_aggregate(request: web.Request) -> web.Response:
    number = _number(request)
    given = parse(AggregateUpdate, wrapped(await body(request), "aggregate"), "aggregate")
    if given.name is None and given.availability_zone is None:
        raise bad_request("give name or availability_zone")
    message = parse(UpdateAggregate, {"number": number, **given.model_dump()}, "aggregate")
    return await _answer(request, "update_aggregate", message)


@routes.delete(
    "/os-aggregates/{aggregate_id}",
    summary="Delete an aggregate without hosts (admin)",
    access=Access.ADMIN,
    status=200,
)
async def delete_aggregate(request: web.Request) -> web.Response:
    await call_none(request, "delete_aggregate", DeleteAggregate(number=_number(request)))
    return web.Response(status=200)


@routes.post(
    "/os-aggregates/{aggregate_id}/action",
    summary="add_host, remove_host or set_metadata (admin)",
    access=Access.ADMIN,
    body=ActionBody,
    status=200,
)
async def aggregate_action(request: web.Request) -> web.Response:
    number = _number(request)
    given = await body(request)
    if len(given) != 1:
        raise bad_request("the body must be one action: add_host, remove_host or set_metadata")
    action = next(iter(given))
    if action in ("add_host", "remove_host"):
        ref = parse(HostRef, wrapped(given, action), action)
        message: Any = parse(
            ChangeAggregateHost,
            {"number": number, "host": ref.host, "add": action == "add_host"},
            action,
        )
        return await _answer(request, "change_aggregate_host", message)
    if action == "set_metadata":
        metadata = parse(MetadataSet, wrapped(given, action), action).metadata
        message = parse(SetAggregateMetadata, {"number": number, "metadata": metadata}, action)
        return await _answer(request, "set_aggregate_metadata", message)
    raise bad_request(f"unknown aggregate action {action!r}")
