"""Image v2 data: upload (`PUT /images/{id}/file`) and download (`GET .../file`).

The body is streamed chunk by chunk into the image store, measured on the way (size,
md5 `checksum`, sha512 `os_hash_value`); it is never held whole in memory, and the
app's JSON body limit does not apply (that limit covers only request.read()). A body
past the gateway's `image_size_cap` is refused with 413 and nothing is kept. Only the
metadata goes to the conductor: queued -> saving before the data, saving -> active
after it, back to queued when the upload fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from uuid import UUID

from aiohttp import web

from gateway.errors import HttpError
from gateway.http import REQUEST_ID_KEY, call, gateway, no_content, uuid_arg
from gateway.image_store import CHUNK, ImageStore, ImageTooLarge, image_store
from gateway.routing import Routes
from schemas.messages.conductor_storage_api import (
    AbortImageUpload,
    FinishImageUpload,
    GetImage,
    ImageReply,
    StartImageUpload,
    StoredImage,
)

log = logging.getLogger(__name__)
routes = Routes("image", "/image/v2")
IMAGE_STORE = "image_store"


def store(request: web.Request) -> ImageStore:
    """The gateway's image store (made on first use from the settings)."""
    shared = gateway(request)
    if IMAGE_STORE not in shared.state:
        shared.state[IMAGE_STORE] = image_store(shared.settings)
    found: ImageStore = shared.state[IMAGE_STORE]
    return found


async def discard_data(request: web.Request, image: StoredImage) -> None:
    """Remove a deleted image's data (a failure is logged: the row is gone already)."""
    if image.location is None:
        return
    try:
        await store(request).delete(image.location)
    except OSError:
        log.exception("could not remove the data of image %s at %s", image.id, image.location)


def _too_large(cap: int) -> HttpError:
    return HttpError(413, f"Image exceeds the storage quota: the size cap is {cap} bytes.")


@routes.put("/images/{image_id}/file", summary="Upload image data (streamed)", status=204)
async def upload_image_data(request: web.Request) -> web.Response:
    image_id = uuid_arg(request, "image_id", "image")
    if request.content_type != "application/octet-stream":
        raise HttpError(415, "image data must be sent as application/octet-stream")
    cap = gateway(request).settings.image_size_cap
    if request.content_length is not None and request.content_length > cap:
        raise _too_large(cap)
    await call(request, "start_image_upload", StartImageUpload(image_id=image_id), ImageReply)
    try:
        stored = await store(request).put(image_id, request.content.iter_chunked(CHUNK), limit=cap)
    except BaseException as exc:
        await asyncio.shield(_abort(request, image_id))
        if isinstance(exc, ImageTooLarge):
            raise _too_large(cap) from None
        raise
    finish = FinishImageUpload(
        image_id=image_id,
        location=stored.location,
        size=stored.size,
        checksum=stored.checksum,
        os_hash_value=stored.os_hash_value,
    )
    try:
        await call(request, "finish_image_upload", finish, ImageReply)
    except BaseException:
        await asyncio.shield(store(request).delete(stored.location))  # deleted meanwhile
        raise
    return no_content()


async def _abort(request: web.Request, image_id: UUID) -> None:
    try:
        await call(request, "abort_image_upload", AbortImageUpload(image_id=image_id), ImageReply)
    except Exception:
        log.exception("could not put image %s back to queued", image_id)


@routes.get("/images/{image_id}/file", summary="Download image data (streamed)")
async def download_image_data(request: web.Request) -> web.StreamResponse:
    image_id = uuid_arg(request, "image_id", "image")
    image = (await call(request, "get_image", GetImage(image_id=image_id), ImageReply)).image
    if image.location is None or image.status.value != "active":
        return no_content()  # Glance: an image without data answers 204
    chunks = _chunks(store(request), image.location)
    first = await anext(chunks, b"")  # a missing file fails here, before the headers go
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "X-OpenStack-Request-ID": request[REQUEST_ID_KEY],
        }
    )
    if image.size is not None:
        response.content_length = image.size
    if image.checksum:
        response.headers["Content-MD5"] = image.checksum
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


async def _chunks(images: ImageStore, location: str) -> AsyncIterator[bytes]:
    try:
        reader = images.read(location)
        async for chunk in reader:
            yield chunk
    except FileNotFoundError:
        raise HttpError(503, "the image's data is not in this gateway's image store") from None
