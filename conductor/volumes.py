"""The conductor's volume API: create, delete, get and list block storage volumes.

Create counts the volume against the project's `volumes` and `gigabytes` quotas in the
transaction that inserts it (`creating`, with a deadline), then casts
`node_agent.storage.create_volume` to any storage agent; the agent's volume.created
fact makes it `available` (volume_states.py). Delete works the same way through
`deleting` and volume.deleted, which gives the quota back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg

from conductor import lifecycle
from conductor.db.queries import volumes
from conductor.device_records import rbd_image, volume_from_row
from conductor.quota import charge
from conductor.servers import identity
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, Forbidden, NotFound
from schemas.messages import agent_storage as storage
from schemas.messages.common import Accepted
from schemas.messages.conductor_volumes import (
    CreateVolume,
    CreateVolumeReply,
    DeleteVolume,
    GetVolume,
    GetVolumeReply,
    ListVolumes,
    ListVolumesReply,
)

DELETABLE = ("available", "error", "error_deleting")
STORAGE = "node_agent.storage"


def scope_of(ctx: RequestContext) -> UUID | None:
    """The project a request may see (None: an admin sees every project)."""
    project_id, _ = identity(ctx)
    return None if ctx.is_admin else project_id


async def owned_volume(
    conn: Any, volume_id: UUID, ctx: RequestContext, *, for_update: bool = False
) -> dict[str, Any]:
    row = await volumes.get_volume(conn, volume_id, project_id=scope_of(ctx), for_update=for_update)
    if row is None:
        raise NotFound(f"volume {volume_id} not found", volume_id=str(volume_id))
    return row


class VolumeAPI:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        client: Client,
        *,
        timeout_s: float,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._timeout = timeout_s
        self._on_commit = on_commit

    @rpc
    async def create_volume(self, ctx: RequestContext, req: CreateVolume) -> CreateVolumeReply:
        project_id, user_id = identity(ctx)
        volume_id = uuid.uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await charge(conn, project_id, {"volumes": 1, "gigabytes": req.size_gb})
            row = await volumes.create_volume(
                conn,
                volume_id=volume_id,
                project_id=project_id,
                user_id=user_id,
                size_gb=req.size_gb,
                name=req.name,
                description=req.description,
                availability_zone=req.availability_zone,
                metadata=req.metadata,
                task_deadline=lifecycle.deadline_in(self._timeout),
            )
        self._on_commit()
        command = storage.CreateVolume(
            volume_id=volume_id, target=rbd_image(volume_id), size_gb=req.size_gb
        )
        await self._client.cast(f"{STORAGE}.create_volume", command, context=ctx)
        return CreateVolumeReply(volume=volume_from_row(row))

    @rpc
    async def delete_volume(self, ctx: RequestContext, req: DeleteVolume) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned_volume(conn, req.volume_id, ctx, for_update=True)
            if row["status"] not in DELETABLE:
                raise Conflict(f"volume {req.volume_id} is {row['status']}; cannot delete it")
            if await volumes.live_attachment(conn, req.volume_id) is not None:
                raise Conflict(f"volume {req.volume_id} is attached")
            await volumes.set_status(
                conn,
                req.volume_id,
                "deleting",
                expected=DELETABLE,
                task_deadline=lifecycle.deadline_in(self._timeout),
            )
        self._on_commit()
        command = storage.DeleteVolume(volume_id=req.volume_id, target=rbd_image(req.volume_id))
        await self._client.cast(f"{STORAGE}.delete_volume", command, context=ctx)
        return Accepted(resource_id=req.volume_id, request_id=ctx.request_id)

    @rpc
    async def get_volume(self, ctx: RequestContext, req: GetVolume) -> GetVolumeReply:
        async with self._pool.acquire() as conn:
            row = await owned_volume(conn, req.volume_id, ctx)
            attached = await volumes.attachments_of_volumes(conn, [row["id"]])
        return GetVolumeReply(volume=volume_from_row(row, attached[row["id"]]))

    @rpc
    async def list_volumes(self, ctx: RequestContext, req: ListVolumes) -> ListVolumesReply:
        if req.all_projects and not ctx.is_admin:
            raise Forbidden("listing every project's volumes is for admins")
        project_id, _ = identity(ctx)
        scope = None if req.all_projects else project_id
        async with self._pool.acquire() as conn:
            rows = await volumes.list_volumes(
                conn,
                scope,
                status=req.status.value if req.status else None,
                limit=req.limit,
                marker=req.marker,
            )
            attached = await volumes.attachments_of_volumes(conn, [r["id"] for r in rows])
        marker = rows[-1]["id"] if len(rows) == req.limit else None
        return ListVolumesReply(
            volumes=tuple(volume_from_row(r, attached[r["id"]]) for r in rows),
            next_marker=marker,
        )
