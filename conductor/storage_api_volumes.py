"""The conductor's Block Storage API beyond create/get/list/delete of empty volumes
(conductor/volumes.py): volumes from images, listing by name, updates, extend and
Cinder's os-reset_status.

A volume made from an image is cloned by the storage agent from the image's RBD
snapshot (conductor/volume_images.py). With the local-directory
image store there is no such snapshot on a real Ceph cluster; that import belongs to
the real-storage work, the fake storage driver accepts it.

Extend charges the extra gigabytes at once, moves the volume to `extending` and casts
`resize_volume`; the agent's volume.resized fact makes it available at the new size,
its volume.failed (operation resize) makes it error_extending and gives the
gigabytes back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import asyncpg

from conductor import lifecycle
from conductor.db.queries import facts, quotas, volume_api, volumes
from conductor.device_notify import volume_event
from conductor.device_records import rbd_image, volume_from_row
from conductor.quota import charge
from conductor.servers import identity
from conductor.volume_images import check_image, image_source
from conductor.volumes import STORAGE, owned_volume
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import event_handler, rpc
from schemas.errors import Forbidden, InvalidInput
from schemas.messages import agent_storage as storage
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
from schemas.messages.facts import Fact, VolumeFailed, VolumeResized

log = logging.getLogger(__name__)


class BlockStorageAPI:
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
    async def create_block_volume(self, ctx: RequestContext, req: CreateBlockVolume) -> VolumeReply:
        project_id, user_id = identity(ctx)
        volume_id = uuid.uuid4()
        source = None
        async with self._pool.acquire() as conn, conn.transaction():
            if req.image_id is not None:
                scope = None if ctx.is_admin else project_id
                await check_image(conn, req.image_id, req.size_gb, scope)
                source = image_source(req.image_id)
            await charge(conn, project_id, {"volumes": 1, "gigabytes": req.size_gb})
            row = await volume_api.create_volume(
                conn,
                volume_id=volume_id,
                project_id=project_id,
                user_id=user_id,
                size_gb=req.size_gb,
                name=req.name,
                description=req.description,
                availability_zone=req.availability_zone,
                metadata=req.metadata,
                image_id=req.image_id,
                volume_type=req.volume_type,
                multiattach=req.multiattach,
                task_deadline=lifecycle.deadline_in(self._timeout),
            )
        self._on_commit()
        command = storage.CreateVolume(
            volume_id=volume_id, target=rbd_image(volume_id), size_gb=req.size_gb, source=source
        )
        await self._client.cast(f"{STORAGE}.create_volume", command, context=ctx)
        return VolumeReply(volume=volume_from_row(row))

    @rpc
    async def find_volumes(self, ctx: RequestContext, req: FindVolumes) -> FindVolumesReply:
        project_id, _ = identity(ctx)
        if (req.all_projects or req.project_id) and not ctx.is_admin:
            raise Forbidden("listing other projects' volumes is for admins")
        scope = req.project_id or (None if req.all_projects else project_id)
        async with self._pool.acquire() as conn:
            rows = await volume_api.find_volumes(
                conn,
                scope,
                name=req.name,
                status=req.status.value if req.status else None,
                limit=req.limit + 1,
                marker=req.marker,
            )
            shown = rows[: req.limit]
            attached = await volumes.attachments_of_volumes(conn, [r["id"] for r in shown])
        return FindVolumesReply(
            volumes=tuple(volume_from_row(r, attached[r["id"]]) for r in shown),
            more=len(rows) > req.limit,
        )

    @rpc
    async def update_volume(self, ctx: RequestContext, req: UpdateVolume) -> VolumeReply:
        columns = {
            name: getattr(req, name)
            for name in ("name", "description", "metadata")
            if getattr(req, name) is not None
        }
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned_volume(conn, req.volume_id, ctx, for_update=True)
            if columns:
                row = await volume_api.update_volume(conn, req.volume_id, columns) or row
            attached = await volumes.attachments_of_volumes(conn, [row["id"]])
        return VolumeReply(volume=volume_from_row(row, attached[row["id"]]))

    @rpc
    async def extend_volume(self, ctx: RequestContext, req: ExtendVolume) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned_volume(conn, req.volume_id, ctx, for_update=True)
            if row["status"] != "available":
                raise InvalidInput(
                    f"Invalid volume: Volume {req.volume_id} status must be 'available' "
                    f"to extend, currently {row['status']}."
                )
            if req.new_size_gb <= row["size_gb"]:
                raise InvalidInput(
                    f"Invalid input received: New size for extend must be greater than "
                    f"current size. (current: {row['size_gb']}, extended: {req.new_size_gb})."
                )
            await charge(conn, row["project_id"], {"gigabytes": req.new_size_gb - row["size_gb"]})
            extending = await volume_api.start_extend(conn, req.volume_id, req.new_size_gb)
            if extending is not None:
                await volume_event(conn, "volume.resize.start", extending, ctx.request_id)
        self._on_commit()
        command = storage.ResizeVolume(
            volume_id=req.volume_id, target=rbd_image(req.volume_id), new_size_gb=req.new_size_gb
        )
        await self._client.cast(f"{STORAGE}.resize_volume", command, context=ctx)
        return Accepted(resource_id=req.volume_id, request_id=ctx.request_id)

    @rpc
    async def reset_volume_status(self, ctx: RequestContext, req: ResetVolumeStatus) -> Accepted:
        if not ctx.is_admin:
            raise Forbidden("resetting a volume's status is for admins")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned_volume(conn, req.volume_id, ctx, for_update=True)
            await volumes.set_status(
                conn, req.volume_id, req.status.value, expected=(row["status"],)
            )
        self._on_commit()
        return Accepted(resource_id=req.volume_id, request_id=ctx.request_id)

    @event_handler(
        "events", "storage.#.volume.resized", "storage.#.volume.failed", group="conductor"
    )
    async def on_resize_fact(self, ctx: RequestContext, fact: Fact) -> None:
        """Settle an extend (its own fact sequence kind: the device ingestor takes the
        other storage facts)."""
        failed = isinstance(fact, VolumeFailed) and fact.operation == "resize"
        if not (isinstance(fact, VolumeResized) or failed):
            return
        async with self._pool.acquire() as conn, conn.transaction():
            if not await facts.accept_fact(
                conn, "volume_extend", fact.resource_id, fact.host, fact.seq
            ):
                return
            if isinstance(fact, VolumeResized):
                row = await volume_api.finish_extend(conn, fact.resource_id, fact.size_gb)
                event = "volume.resize.end"
            else:
                log.warning("extending volume %s failed: %s", fact.resource_id, fact)
                row = await volume_api.fail_extend(conn, fact.resource_id)
                event = "volume.resize.error"
                if row is not None and row["pending_gb"]:
                    extra = row["pending_gb"] - row["size_gb"]
                    await quotas.release(conn, row["project_id"], {"gigabytes": extra})
            if row is not None:
                await volume_event(conn, event, row, ctx.request_id)
        self._on_commit()
