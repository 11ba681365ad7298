"""Server metadata (`/servers/{id}/metadata[/{key}]`) and tags (`/servers/{id}/tags[/{tag}]`,
microversion 2.26 and later), as Nova serves them."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.compute_server_view import PREFIX, links
from gateway.compute_servers import fetch_view
from gateway.errors import HttpError, bad_request, not_found
from gateway.http import body, call, describe, json, no_content, uuid_arg
from gateway.microversion import microversion
from gateway.routing import Routes
from schemas.messages.conductor_server_extras import (
    ChangeServerTag,
    DeleteServerMetadata,
    ServerMetadataReply,
    ServerTagsReply,
    SetServerMetadata,
    SetServerTags,
)

routes = Routes("compute", PREFIX)


class MetadataBody(BaseModel):
    """`{"metadata": {key: value}}`."""

    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, str]


class MetaBody(BaseModel):
    """`{"meta": {key: value}}` with exactly the key of the URL."""

    model_config = ConfigDict(extra="forbid")
    meta: dict[str, str]


class TagsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str]


def _parsed(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(f"Invalid input: {describe(exc)}") from None


def _message(build: Any, **fields: Any) -> Any:
    """A message from user input; its validation errors are the user's (400)."""
    try:
        return build(**fields)
    except ValidationError as exc:
        raise bad_request(f"Invalid input: {describe(exc)}") from None


# -- metadata -------------------------------------------------------------------------


@routes.get("/servers/{server_id}/metadata", summary="Show a server's metadata")
async def show_metadata(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    return json({"metadata": dict(view.server.metadata)})


async def _set_metadata(request: web.Request, replace: bool) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    given = _parsed(MetadataBody, await body(request))
    message = _message(
        SetServerMetadata, server_id=server_id, metadata=given.metadata, replace=replace
    )
    reply = await call(request, "set_server_metadata", message, ServerMetadataReply)
    return json({"metadata": dict(reply.metadata)})


@routes.post(
    "/servers/{server_id}/metadata",
    summary="Merge items into a server's metadata",
    body=MetadataBody,
    status=200,
)
async def merge_metadata(request: web.Request) -> web.Response:
    return await _set_metadata(request, replace=False)


@routes.put(
    "/servers/{server_id}/metadata", summary="Replace a server's metadata", body=MetadataBody
)
async def replace_metadata(request: web.Request) -> web.Response:
    return await _set_metadata(request, replace=True)


@routes.get("/servers/{server_id}/metadata/{key}", summary="Show one metadata item")
async def show_metadata_item(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    key = request.match_info["key"]
    if key not in view.server.metadata:
        raise not_found("Metadata item was not found")
    return json({"meta": {key: view.server.metadata[key]}})


@routes.put("/servers/{server_id}/metadata/{key}", summary="Set one metadata item", body=MetaBody)
async def set_metadata_item(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    key = request.match_info["key"]
    given = _parsed(MetaBody, await body(request))
    if len(given.meta) != 1:
        raise bad_request("Request body contains too many items")
    if key not in given.meta:
        raise bad_request("Request body and URI mismatch")
    message = _message(SetServerMetadata, server_id=server_id, metadata=given.meta)
    await call(request, "set_server_metadata", message, ServerMetadataReply)
    return json({"meta": dict(given.meta)})


@routes.delete("/servers/{server_id}/metadata/{key}", summary="Delete one metadata item")
async def delete_metadata_item(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    message = _message(DeleteServerMetadata, server_id=server_id, key=request.match_info["key"])
    await call(request, "delete_server_metadata", message, ServerMetadataReply)
    return no_content()


# -- tags (2.26) ----------------------------------------------------------------------


def _tags_served(request: web.Request) -> None:
    if microversion(request) < (2, 26):
        raise HttpError(404, "The resource could not be found.")


@routes.get("/servers/{server_id}/tags", summary="List a server's tags (2.26)")
async def list_tags(request: web.Request) -> web.Response:
    _tags_served(request)
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    return json({"tags": list(view.tags)})


@routes.put("/servers/{server_id}/tags", summary="Replace a server's tags (2.26)", body=TagsBody)
async def replace_tags(request: web.Request) -> web.Response:
    _tags_served(request)
    server_id = uuid_arg(request, "server_id", "Instance")
    given = _parsed(TagsBody, await body(request))
    message = _message(SetServerTags, server_id=server_id, tags=tuple(given.tags))
    reply = await call(request, "set_server_tags", message, ServerTagsReply)
    return json({"tags": list(reply.tags)})


@routes.delete("/servers/{server_id}/tags", summary="Delete every tag of a server (2.26)")
async def delete_tags(request: web.Request) -> web.Response:
    _tags_served(request)
    message = SetServerTags(server_id=uuid_arg(request, "server_id", "Instance"), tags=())
    await call(request, "set_server_tags", message, ServerTagsReply)
    return no_content()


@routes.get(
    "/servers/{server_id}/tags/{tag}", summary="Check a server has a tag (2.26)", status=204
)
async def check_tag(request: web.Request) -> web.Response:
    _tags_served(request)
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    tag = request.match_info["tag"]
    if tag not in view.tags:
        raise not_found(f"Tag '{tag}' could not be found.")
    return no_content()


@routes.put("/servers/{server_id}/tags/{tag}", summary="Add a tag (2.26)", status=201)
async def add_tag(request: web.Request) -> web.Response:
    _tags_served(request)
    server_id = uuid_arg(request, "server_id", "Instance")
    tag = request.match_info["tag"]
    message = _message(ChangeServerTag, server_id=server_id, tag=tag, present=True)
    reply = await call(request, "change_server_tag", message, ServerTagsReply)
    if not reply.changed:
        return no_content()
    location = links(request, "servers", server_id)[0]["href"] + f"/tags/{tag}"
    return web.Response(status=201, headers={"Location": location})


@routes.delete("/servers/{server_id}/tags/{tag}", summary="Remove a tag (2.26)")
async def remove_tag(request: web.Request) -> web.Response:
    _tags_served(request)
    server_id = uuid_arg(request, "server_id", "Instance")
    message = _message(
        ChangeServerTag, server_id=server_id, tag=request.match_info["tag"], present=False
    )
    await call(request, "change_server_tag", message, ServerTagsReply)
    return no_content()
