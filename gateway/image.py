"""Image v2 (a Glance subset): image metadata, tags and the published schemas. The
data routes (upload, download) are in gateway/image_data.py.

Visibility follows Glance: everyone sees public images, a project its own and those
shared with it; another project's private image is a 404. Only admins publish.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from gateway.errors import bad_request, forbidden, not_found
from gateway.http import body, call, json, no_content, parse, query_int, uuid_arg
from gateway.image_data import discard_data, store
from gateway.image_patch import changes, read_patch
from gateway.image_views import (
    CORE,
    READ_ONLY,
    image_list_view,
    image_schema,
    image_view,
    images_schema,
)
from gateway.routing import Routes
from schemas.messages.conductor_storage_api import (
    CreateImage,
    DeleteImage,
    FindImages,
    FindImagesReply,
    GetImage,
    ImageReply,
    StoredImage,
    UpdateImage,
)

routes = Routes("image", "/image/v2")
MAX_LIMIT = 1000  # Glance's api_limit_max: a larger limit is lowered to it
LIST_QUERY = {
    "name": "exact name",
    "id": "an id, or in:<id>,<id>,... (Glance's in operator)",
    "status": "image status",
    "visibility": "public, private, shared, community or all",
    "owner": "owning project id",
    "tag": "a tag the image has (repeatable)",
    "limit": "page size (default 25, at most 1000)",
    "marker": "the last image of the previous page",
    "sort_key": "name, status, created_at, updated_at, size, id, disk_format, visibility",
    "sort_dir": "asc or desc",
    "sort": "key[:dir] (Glance's new sort syntax; the first key applies)",
}


async def fetch_image(request: web.Request, image_id: UUID) -> StoredImage:
    return (await call(request, "get_image", GetImage(image_id=image_id), ImageReply)).image


def _uuid(raw: str, what: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request(f"{what} must be an image id, not {raw!r}") from None


def _ids(raw: str) -> list[UUID]:
    values = raw.removeprefix("in:").split(",")
    return [_uuid(value.strip().strip('"'), "id") for value in values if value.strip()]


def _sort(request: web.Request) -> tuple[str, str]:
    key = request.query.get("sort_key", "created_at")
    direction = request.query.get("sort_dir", "desc")
    if "sort" in request.query:
        first = request.query["sort"].split(",")[0]
        key, _, given = first.partition(":")
        direction = given or "desc"
    return key, direction


def find_request(request: web.Request) -> FindImages:
    query = request.query
    key, direction = _sort(request)
    wanted: dict[str, Any] = {
        "name": query.get("name"),
        "status": query.get("status"),
        "visibility": query.get("visibility"),
        "owner": query.get("owner"),
        "tags": tuple(query.getall("tag", [])),
        "limit": min(query_int(request, "limit", 25) or 0, MAX_LIMIT),
        "marker": query.get("marker"),
        "sort_key": key,
        "sort_dir": direction,
    }
    if "id" in query:
        wanted["ids"] = tuple(_ids(query["id"]))
    return parse(FindImages, {k: v for k, v in wanted.items() if v is not None}, "image query")


@routes.get("/images", summary="List images", query=LIST_QUERY)
async def list_images(request: web.Request) -> web.Response:
    reply = await call(request, "find_images", find_request(request), FindImagesReply)
    return json(image_list_view(reply.images, reply.more, dict(request.query)))


def create_request(data: dict[str, Any]) -> CreateImage:
    fields: dict[str, Any] = {"properties": {}}
    for key, value in data.items():
        if key == "id":
            fields["image_id"] = value
        elif key in READ_ONLY:
            raise forbidden(f"Attribute '{key}' is read-only.")
        elif key == "os_hidden":
            if value:
                raise bad_request("hidden images are not supported")
        elif key in CORE:
            if value is not None:
                fields[key] = value
        elif value is not None:
            if not isinstance(value, str):
                raise bad_request(f"Invalid value for property {key!r}: must be a string")
            fields["properties"][key] = value
    _within_int32(fields)
    return parse(CreateImage, fields, "image")


def _within_int32(fields: dict[str, Any]) -> None:
    """Glance's min_disk and min_ram are 32-bit integers: larger is a 400, not a 500."""
    for key in ("min_disk", "min_ram"):
        value = fields.get(key)
        if isinstance(value, int | float) and value > 2**31 - 1:
            raise bad_request(f"Invalid value for {key}: must be at most {2**31 - 1}")


@routes.post("/images", summary="Create an image (queued until data is uploaded)", body=CreateImage)
async def create_image(request: web.Request) -> web.Response:
    reply = await call(request, "create_image", create_request(await body(request)), ImageReply)
    image = reply.image
    return json(image_view(image), status=201, headers={"Location": f"/v2/images/{image.id}"})


@routes.get("/images/{image_id}", summary="Show an image")
async def show_image(request: web.Request) -> web.Response:
    return json(image_view(await fetch_image(request, uuid_arg(request, "image_id", "image"))))


@routes.patch("/images/{image_id}", summary="Update an image (JSON patch)")
async def update_image(request: web.Request) -> web.Response:
    image_id = uuid_arg(request, "image_id", "image")
    update = changes(await read_patch(request))
    if "location" in update:
        location = update["location"]
        if not store(request).owns(location):
            raise bad_request(f"Invalid location {location!r}: not in the image store")
        try:
            update["location_size"] = await store(request).size_of(location)
        except OSError:
            raise bad_request(f"Invalid location {location!r}: no such file") from None
    _within_int32(update)
    message = parse(UpdateImage, {"image_id": image_id, **update}, "image patch")
    reply = await call(request, "update_image", message, ImageReply)
    return json(image_view(reply.image))


@routes.delete("/images/{image_id}", summary="Delete an image and its data")
async def delete_image(request: web.Request) -> web.Response:
    image_id = uuid_arg(request, "image_id", "image")
    reply = await call(request, "delete_image", DeleteImage(image_id=image_id), ImageReply)
    await discard_data(request, reply.image)
    return no_content()


def _tag(request: web.Request) -> str:
    tag = request.match_info["tag"]
    if not 1 <= len(tag) <= 255:
        raise bad_request("a tag has 1 to 255 characters")
    return tag


@routes.put("/images/{image_id}/tags/{tag}", summary="Add a tag to an image", status=204)
async def add_tag(request: web.Request) -> web.Response:
    message = UpdateImage(
        image_id=uuid_arg(request, "image_id", "image"), add_tags=(_tag(request),)
    )
    await call(request, "update_image", message, ImageReply)
    return no_content()


@routes.delete("/images/{image_id}/tags/{tag}", summary="Remove a tag from an image")
async def remove_tag(request: web.Request) -> web.Response:
    image_id, tag = uuid_arg(request, "image_id", "image"), _tag(request)
    if tag not in (await fetch_image(request, image_id)).tags:
        raise not_found(f"Tag {tag} not found")
    await call(
        request, "update_image", UpdateImage(image_id=image_id, remove_tags=(tag,)), ImageReply
    )
    return no_content()


@routes.get("/schemas/image", summary="The JSON schema of an image")
async def show_image_schema(request: web.Request) -> web.Response:
    return json(image_schema())


@routes.get("/schemas/images", summary="The JSON schema of an image list")
async def show_images_schema(request: web.Request) -> web.Response:
    return json(images_schema())
