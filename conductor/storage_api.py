"""The conductor's Image API: image metadata and the upload state machine.

    queued --start_image_upload--> saving --finish_image_upload--> active
                                      \\--abort_image_upload--> queued

The bytes never come here: the gateway streams them into the image store and reports
the location, size and checksums it measured. Who may do what follows Glance: anyone
sees public and community images, a project sees its own and those shared with it
(others are NotFound); only the owner or an admin changes or deletes an image;
publishing (`public`) and registering a location are for admins.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import image_api, images
from conductor.servers import identity
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.compute import Visibility
from schemas.errors import Conflict, Forbidden, InvalidInput, NotFound
from schemas.messages.conductor_storage_api import (
    AbortImageUpload,
    CreateImage,
    DeleteImage,
    FindImages,
    FindImagesReply,
    FinishImageUpload,
    GetImage,
    ImageReply,
    StartImageUpload,
    StoredImage,
    UpdateImage,
)


def stored_image(row: Mapping[str, Any]) -> StoredImage:
    data = {k: v for k, v in row.items() if k in StoredImage.model_fields and v is not None}
    return StoredImage.model_validate(data)


def image_scope(ctx: RequestContext) -> UUID | None:
    """The project whose view applies (None: an admin sees every image)."""
    project_id, _ = identity(ctx)
    return None if ctx.is_admin else project_id


def missing(image_id: UUID) -> NotFound:
    return NotFound(f"No image found with ID {image_id}", image_id=str(image_id))


class ImageAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _writable(self, conn: Any, image_id: UUID, ctx: RequestContext) -> dict[str, Any]:
        """The image locked for a change by its owner or an admin."""
        project_id, _ = identity(ctx)
        row = await image_api.visible_image(conn, image_id, image_scope(ctx), for_update=True)
        if row is None:
            raise missing(image_id)
        if not ctx.is_admin and row["owner"] != project_id:
            raise Forbidden(f"You are not permitted to modify image {image_id}")
        return row

    @rpc
    async def create_image(self, ctx: RequestContext, req: CreateImage) -> ImageReply:
        project_id, _ = identity(ctx)
        if req.visibility is Visibility.PUBLIC and not ctx.is_admin:
            raise Forbidden("You are not authorized to complete publicize_image action.")
        async with self._pool.acquire() as conn:
            try:
                row = await images.create_image(
                    conn,
                    image_id=req.image_id or uuid.uuid4(),
                    name=req.name,
                    owner=project_id,
                    visibility=req.visibility.value,
                    disk_format=req.disk_format,
                    container_format=req.container_format,
                    min_disk=req.min_disk,
                    min_ram=req.min_ram,
                    protected=req.protected,
                    properties=req.properties,
                    tags=req.tags,
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(f"Image with identifier {req.image_id} already exists!") from None
        return ImageReply(image=stored_image(row))

    @rpc
    async def get_image(self, ctx: RequestContext, req: GetImage) -> ImageReply:
        async with self._pool.acquire() as conn:
            row = await image_api.visible_image(conn, req.image_id, image_scope(ctx))
        if row is None:
            raise missing(req.image_id)
        return ImageReply(image=stored_image(row))

    @rpc
    async def find_images(self, ctx: RequestContext, req: FindImages) -> FindImagesReply:
        scope = image_scope(ctx)
        flt = image_api.ImageFilter(
            project_id=scope,
            ids=req.ids,
            name=req.name,
            status=req.status.value if req.status else None,
            visibility=req.visibility,
            owner=req.owner,
            tags=req.tags,
        )
        async with self._pool.acquire() as conn:
            if req.marker and await image_api.visible_image(conn, req.marker, scope) is None:
                raise InvalidInput(f"marker {req.marker} could not be found")
            rows = await image_api.find_images(
                conn,
                flt,
                limit=req.limit + 1,
                marker=req.marker,
                sort_key=req.sort_key,
                sort_dir=req.sort_dir,
            )
        return FindImagesReply(
            images=tuple(stored_image(r) for r in rows[: req.limit]),
            more=len(rows) > req.limit,
        )

    @rpc
    async def update_image(self, ctx: RequestContext, req: UpdateImage) -> ImageReply:
        if req.visibility is Visibility.PUBLIC and not ctx.is_admin:
            raise Forbidden("You are not authorized to complete publicize_image action.")
        columns = {
            name: getattr(req, name)
            for name in (
                "name",
                "visibility",
                "disk_format",
                "container_format",
                "min_disk",
                "min_ram",
                "protected",
                "tags",
            )
            if getattr(req, name) is not None
        }
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._writable(conn, req.image_id, ctx)
            if req.location is not None:
                columns.update(_location_change(row, req, ctx))
            if row["status"] == "active":
                for frozen in ("disk_format", "container_format"):
                    if frozen in columns and columns[frozen] != row[frozen]:
                        raise Forbidden(
                            f"Attribute {frozen} can be only replaced for a queued image."
                        )
            updated = await image_api.update_image(
                conn,
                req.image_id,
                {k: v.value if hasattr(v, "value") else v for k, v in columns.items()},
                add_tags=req.add_tags,
                remove_tags=req.remove_tags,
                set_properties=req.set_properties,
                remove_properties=req.remove_properties,
            )
        if updated is None:
            raise missing(req.image_id)
        return ImageReply(image=stored_image(updated))

    @rpc
    async def delete_image(self, ctx: RequestContext, req: DeleteImage) -> ImageReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._writable(conn, req.image_id, ctx)
            if row["protected"]:
                raise Forbidden(f"Image {req.image_id} is protected and cannot be deleted.")
            deleted = await images.mark_deleted(conn, req.image_id)
        if deleted is None:
            raise missing(req.image_id)
        return ImageReply(image=stored_image(deleted))

    @rpc
    async def start_image_upload(self, ctx: RequestContext, req: StartImageUpload) -> ImageReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._writable(conn, req.image_id, ctx)
            if row["disk_format"] is None or row["container_format"] is None:
                raise InvalidInput(
                    "Properties disk_format, container_format must be set prior to saving data."
                )
            saving = await images.set_status(conn, req.image_id, "saving", expected=("queued",))
        if saving is None:
            raise Conflict(f"Image status transition from {row['status']} to saving is not allowed")
        return ImageReply(image=stored_image(saving))

    @rpc
    async def finish_image_upload(self, ctx: RequestContext, req: FinishImageUpload) -> ImageReply:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._writable(conn, req.image_id, ctx)
            row = await images.record_upload(
                conn,
                req.image_id,
                location=req.location,
                size=req.size,
                checksum=req.checksum,
                os_hash_value=req.os_hash_value,
            )
        if row is None:
            raise Conflict(f"image {req.image_id} is no longer being uploaded")
        return ImageReply(image=stored_image(row))

    @rpc
    async def abort_image_upload(self, ctx: RequestContext, req: AbortImageUpload) -> ImageReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._writable(conn, req.image_id, ctx)
            queued = await images.set_status(conn, req.image_id, "queued", expected=("saving",))
        return ImageReply(image=stored_image(queued or row))


def _location_change(
    row: Mapping[str, Any], req: UpdateImage, ctx: RequestContext
) -> dict[str, Any]:
    """Registering where the data already is makes a queued image active (admins only:
    a location names storage that the caller's project may not own)."""
    if not ctx.is_admin:
        raise Forbidden("registering an image location is for admins")
    if row["status"] != "queued":
        raise Conflict(f"image {req.image_id} already has data (status {row['status']})")
    formats = {f: getattr(req, f) or row[f] for f in ("disk_format", "container_format")}
    if None in formats.values() or req.location_size is None:
        raise InvalidInput("disk_format, container_format and the data's size are needed")
    return {"location": req.location, "size": req.location_size, "status": "active", **formats}
