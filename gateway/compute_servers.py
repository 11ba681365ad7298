"""Compute v2.1 servers: list (summary and detail, with Nova's filters), create, show,
update and delete. Shapes per microversion live in compute_server_view.py; the create
body in compute_server_create.py; actions, metadata, tags and devices in the other
compute_server_* modules."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.compute_server_create import ServerCreate, create_error, create_message
from gateway.compute_server_view import (
    PREFIX,
    links,
    server_basics,
    server_detail,
    server_summary,
)
from gateway.errors import HttpError, bad_request
from gateway.http import (
    all_projects,
    body,
    call,
    caller,
    describe,
    json,
    no_content,
    query_int,
    url,
    uuid_arg,
    wrapped,
)
from gateway.microversion import microversion
from gateway.routing import Routes
from schemas.errors import Forbidden, SkymeshError
from schemas.instance_state import ApiStatus
from schemas.messages.common import Accepted
from schemas.messages.conductor_server_extras import (
    FindServers,
    FindServersReply,
    ServerView,
    ServerViewReply,
    ShowServer,
    UpdateServer,
)
from schemas.messages.conductor_servers import CreateServerReply, DeleteServer

routes = Routes("compute", PREFIX)
MAX_LIMIT = 1000
LIST_QUERY = {
    "name": "a regular expression the name matches",
    "status": "an API status (ACTIVE, SHUTOFF, ...)",
    "image": "image id",
    "flavor": "flavor id",
    "host": "compute host (admin)",
    "all_tenants": "every project (admin)",
    "project_id": "one project (admin, with all_tenants)",
    "changes-since": "ISO 8601 time: servers changed since (deleted ones included)",
    "tags": "comma-separated tags a server has all of",
    "tags-any": "comma-separated tags a server has one of",
    "limit": "page size (at most 1000)",
    "marker": "id of the last server of the previous page",
}


class ServerUpdate(BaseModel):
    """`{"server": {...}}` of PUT /servers/{id}."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


async def fetch_view(request: web.Request, server_id: UUID) -> ServerView:
    reply = await call(request, "show_server", ShowServer(server_id=server_id), ServerViewReply)
    return reply.view


def locked_conflict(exc: SkymeshError, server_id: UUID) -> HttpError | None:
    """Nova answers 409 "Instance X is locked" where the conductor refuses with 403."""
    if isinstance(exc, Forbidden) and exc.message.endswith("is locked"):
        return HttpError(409, f"Instance {server_id} is locked")
    return None


def _changes_since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"Invalid changes-since value {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ref(raw: str | None) -> UUID | bool | None:
    """An image/flavor filter as a UUID; False when it cannot match anything."""
    if not raw:
        return None
    try:
        return UUID(raw.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        return False


def _tags(raw: str | None) -> tuple[str, ...]:
    return tuple(t for t in (raw or "").split(",") if t)


def find_message(request: web.Request) -> FindServers | None:
    """The list filters as a message; None when they cannot match any server."""
    q = request.query
    admin = caller(request).is_admin
    limit = query_int(request, "limit", MAX_LIMIT)
    if limit is None or limit < 0:
        raise bad_request("limit must be a non-negative integer")
    status = q.get("status", "").upper() or None
    image, flavor = _ref(q.get("image")), _ref(q.get("flavor"))
    if image is False or flavor is False or limit == 0:
        return None
    if status is not None and status not in ApiStatus.__members__:
        return None  # Nova: an unknown status matches nothing
    # as Nova: a project filter applies only to an admin listing every project
    project = (q.get("project_id") or q.get("tenant_id")) if all_projects(request) else None
    fields: dict[str, Any] = {
        "name": q.get("name") or None,
        "status": status,
        "image_id": image,
        "flavor_id": flavor,
        "host": q.get("host") or None if admin else None,
        "project_id": project or None,
        "changes_since": _changes_since(q.get("changes-since") or q.get("changes_since")),
        "tags": _tags(q.get("tags")),
        "tags_any": _tags(q.get("tags-any")),
        "limit": min(limit, MAX_LIMIT),
        "marker": q.get("marker") or None,
        "deleted": admin and q.get("deleted", "").lower() in ("true", "1", "yes"),
    }
    try:
        return FindServers(**fields)
    except ValidationError as exc:
        raise bad_request(f"Invalid filter: {describe(exc)}") from None


async def _find(request: web.Request) -> tuple[list[ServerView], dict[str, Any]]:
    message = find_message(request)
    if message is None:
        return [], {}
    reply = await call(
        request, "find_servers", message, FindServersReply, every_project=all_projects(request)
    )
    extra: dict[str, Any] = {}
    if reply.next_marker is not None:
        query = {k: v for k, v in request.query.items() if k != "marker"}
        query["marker"] = str(reply.next_marker)
        href = url(request, f"{request.path}?{urlencode(query)}")
        extra["servers_links"] = [{"rel": "next", "href": href}]
    return list(reply.servers), extra


@routes.get("/servers", summary="List servers (id, name, links)", query=LIST_QUERY)
async def list_servers(request: web.Request) -> web.Response:
    views, extra = await _find(request)
    return json({"servers": [server_summary(request, v) for v in views], **extra})


@routes.get("/servers/detail", summary="List servers with details", query=LIST_QUERY)
async def list_servers_detail(request: web.Request) -> web.Response:
    views, extra = await _find(request)
    return json({"servers": [server_detail(request, v) for v in views], **extra})


@routes.post("/servers", summary="Create one or more servers", body=ServerCreate, status=202)
async def create_server(request: web.Request) -> web.Response:
    message, given = create_message(await body(request))
    try:
        reply = await call(request, "create_server", message, CreateServerReply)
    except SkymeshError as exc:
        raise (create_error(exc, message) or exc) from None
    if given.return_reservation_id:
        return json({"reservation_id": reply.reservation_id}, status=202)
    server_id = reply.server_ids[0]
    server = {
        "id": str(server_id),
        "links": links(request, "servers", server_id),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": name} for name in message.security_groups],
        # Nova's generated password; no guest agent sets it (docs/gateway-compute-servers.md)
        "adminPass": secrets.token_urlsafe(9),
    }
    location = links(request, "servers", server_id)[0]["href"]
    return json({"server": server}, status=202, headers={"Location": location})


@routes.get("/servers/{server_id}", summary="Show a server")
async def show_server(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    return json({"server": server_detail(request, view)})


@routes.put("/servers/{server_id}", summary="Rename or describe a server", body=ServerUpdate)
async def update_server(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    data = wrapped(await body(request), "server")
    try:
        given = ServerUpdate.model_validate(data)
    except ValidationError as exc:
        raise bad_request(f"Invalid input for field/attribute server. {describe(exc)}") from None
    if "description" in data and microversion(request) < (2, 19):
        raise bad_request("description needs microversion 2.19 or later")
    message = UpdateServer(
        server_id=server_id,
        name=given.name,
        description=given.description,
        clear_description="description" in data and given.description is None,
    )
    reply = await call(request, "update_server", message, ServerViewReply)
    shape = server_detail if microversion(request) >= (2, 75) else server_basics
    return json({"server": shape(request, reply.view)})


@routes.delete("/servers/{server_id}", summary="Delete a server")
async def delete_server(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    try:
        await call(request, "delete_server", DeleteServer(server_id=server_id), Accepted)
    except SkymeshError as exc:
        raise (locked_conflict(exc, server_id) or exc) from None
    return no_content()
