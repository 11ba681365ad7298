"""The conductor's catalog API: flavors and images a project may use."""

from __future__ import annotations

import asyncpg

from conductor.db.queries import flavors, images
from conductor.records import flavor_from_row, image_from_row
from conductor.servers import identity
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.messages.conductor_catalog import (
    ListFlavors,
    ListFlavorsReply,
    ListImages,
    ListImagesReply,
)


class Catalog:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def list_flavors(self, ctx: RequestContext, req: ListFlavors) -> ListFlavorsReply:
        project_id, _ = identity(ctx)
        async with self._pool.acquire() as conn:
            rows = await flavors.list_flavors(conn, project_id=project_id)
        found = (flavor_from_row(r) for r in rows if req.name in (None, r["name"]))
        return ListFlavorsReply(flavors=tuple(found))

    @rpc
    async def list_images(self, ctx: RequestContext, req: ListImages) -> ListImagesReply:
        project_id, _ = identity(ctx)
        async with self._pool.acquire() as conn:
            rows = await images.list_images(conn, project_id, status=req.status)
        found = (image_from_row(r) for r in rows if req.name in (None, r["name"]))
        return ListImagesReply(images=tuple(found))
