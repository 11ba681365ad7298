"""Volume state changes shared by the API, the fact ingestion and the deadline sweep.
Each takes a connection inside the caller's transaction and writes the volume, its
attachment, quota usage and the outbox notification together; each is a no-op (False)
when the volume is no longer in the state it expects, so a late or duplicate fact and
a sweep racing a fact cannot both apply.

    creating --volume.created--> available --attach--> attaching --volume.attached--> in-use
        \\--volume.failed--> error            <--volume.detached-- detaching <--detach--/
    available/error --delete--> deleting --volume.deleted--> (deleted, quota released)
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.queries import quotas, volumes
from conductor.db.types import Connection
from conductor.device_notify import instance_device_event, volume_event
from conductor.device_records import POOL, rbd_image

ATTACH_PENDING = ("reserved", "attaching")


def quota_deltas(volume: dict[str, Any]) -> dict[str, int]:
    return {"volumes": 1, "gigabytes": int(volume["size_gb"])}


async def created(conn: Connection, volume_id: UUID, host: str, request_id: str | None) -> bool:
    image = rbd_image(volume_id)
    row = await volumes.set_status(
        conn,
        volume_id,
        "available",
        expected=("creating",),
        host=f"{host}@rbd#{POOL}",
        provider_location=f"{image.pool}/{image.image}",
    )
    if row is not None:
        await volume_event(conn, "volume.create.end", row, request_id)
    return row is not None


async def failed(conn: Connection, volume_id: UUID, operation: str, request_id: str | None) -> bool:
    """A storage operation failed: creating -> error, deleting -> error_deleting."""
    if operation == "delete":
        row = await volumes.set_status(conn, volume_id, "error_deleting", expected=("deleting",))
        event = "volume.delete.error"
    else:
        row = await volumes.set_status(conn, volume_id, "error", expected=("creating",))
        event = "volume.create.error"
    if row is not None:
        await volume_event(conn, event, row, request_id)
    return row is not None


async def deleted(conn: Connection, volume_id: UUID, request_id: str | None) -> bool:
    """The backend image is gone: the row is soft-deleted and the quota given back."""
    row = await volumes.get_volume(conn, volume_id, for_update=True)
    if row is None or row["status"] != "deleting":
        return False
    await volume_event(conn, "volume.delete.end", row, request_id)
    await volumes.mark_deleted(conn, volume_id)
    await quotas.release(conn, row["project_id"], quota_deltas(row))
    return True


async def attached(
    conn: Connection,
    attachment_id: UUID,
    host: str,
    device: str,
    request_id: str | None,
) -> bool:
    """Cinder's attachment_complete: attachment attached, volume in-use."""
    attachment = await volumes.get_attachment(conn, attachment_id)
    if attachment is None or attachment["attached_host"] not in (None, host):
        return False
    row = await volumes.set_status(conn, attachment["volume_id"], "in-use", expected=("attaching",))
    if row is None:
        return False
    await volumes.update_attachment(
        conn, attachment_id, "attached", expected=ATTACH_PENDING, host=host, device=device
    )
    await instance_device_event(
        conn,
        "instance.volume_attach.end",
        attachment["instance_id"],
        request_id,
        volume_id=attachment["volume_id"],
    )
    return True


async def detached(conn: Connection, attachment_id: UUID, request_id: str | None) -> bool:
    """The guest lost the disk: attachment detached, volume available."""
    attachment = await volumes.get_attachment(conn, attachment_id)
    if attachment is None:
        return False
    volume_id = attachment["volume_id"]
    row = await volumes.set_status(conn, volume_id, "available", expected=("detaching",))
    if row is None:
        return False
    await volumes.update_attachment(conn, attachment_id, "detached", expected=("detaching",))
    await instance_device_event(
        conn,
        "instance.volume_detach.end",
        attachment["instance_id"],
        request_id,
        volume_id=volume_id,
    )
    return True


async def rollback_attach(conn: Connection, volume_id: UUID, request_id: str | None) -> bool:
    """The attach did not happen (failed, or past its deadline): the attachment goes and
    the volume is available again."""
    row = await volumes.set_status(conn, volume_id, "available", expected=("attaching",))
    if row is None:
        return False
    attachment = await volumes.live_attachment(conn, volume_id)
    if attachment is not None and attachment["status"] in ATTACH_PENDING:
        await volumes.delete_attachment(conn, attachment["id"])
        await instance_device_event(
            conn,
            "instance.volume_attach.error",
            attachment["instance_id"],
            request_id,
            volume_id=volume_id,
        )
    return True


async def rollback_detach(conn: Connection, volume_id: UUID, request_id: str | None) -> bool:
    """The detach did not happen: the volume stays in-use, attached."""
    row = await volumes.set_status(conn, volume_id, "in-use", expected=("detaching",))
    if row is None:
        return False
    attachment = await volumes.live_attachment(conn, volume_id)
    if attachment is not None:
        await volumes.update_attachment(conn, attachment["id"], "attached", expected=("detaching",))
        await instance_device_event(
            conn,
            "instance.volume_detach.error",
            attachment["instance_id"],
            request_id,
            volume_id=volume_id,
        )
    return True
