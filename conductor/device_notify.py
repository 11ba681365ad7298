"""Notifications about servers' devices, written to the outbox in the caller's
transaction: `instance.volume_attach.end` and friends carry the instance payload with
the volume or port as its subject (Nova's InstanceActionVolumePayload and
InstanceActionInterfacePayload); `volume.*` carry the volume."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from conductor.db.queries import instance_actions, instances, outbox, volumes
from conductor.db.types import Connection
from conductor.device_records import volume_from_row
from conductor.notify import PUBLISHER
from conductor.records import instance_from_row
from schemas.messages.notifications import (
    InstanceNotification,
    Notification,
    Priority,
    VolumeNotification,
)
from schemas.messages.payloads import InstancePayload, VolumePayload


def _priority(event_type: str) -> Priority:
    return Priority.ERROR if event_type.endswith(".error") else Priority.INFO


async def _append(conn: Connection, note: Notification, request_id: str | None) -> None:
    await outbox.append(
        conn,
        note.event_type,
        {
            "schema": note.message_name,
            "version": note.message_version,
            "body": note.model_dump(mode="json"),
        },
        request_id=request_id,
    )


async def instance_device_event(
    conn: Connection,
    event_type: str,
    instance_id: UUID,
    request_id: str | None,
    *,
    volume_id: UUID | None = None,
    port_id: UUID | None = None,
) -> None:
    """Queue e.g. instance.volume_attach.end about `instance_id` and its device."""
    row = await instances.get_instance(conn, instance_id, include_deleted=True)
    if row is None:
        return
    fault = await instance_actions.latest_fault(conn, instance_id)
    instance = instance_from_row(row, fault if row["vm_state"] == "error" else None)
    note = InstanceNotification(
        message_id=uuid.uuid4(),
        event_type=event_type,
        priority=_priority(event_type),
        publisher_id=PUBLISHER,
        timestamp=datetime.now(UTC),
        request_id=request_id,
        payload=InstancePayload.of(instance, volume_id=volume_id, port_id=port_id),
    )
    await _append(conn, note, request_id)


async def volume_event(
    conn: Connection, event_type: str, volume: dict[str, Any], request_id: str | None
) -> None:
    """Queue e.g. volume.create.end about the volume row `volume` (not yet deleted:
    a deleted row has no status a notification can carry)."""
    attached = await volumes.attachments_of_volumes(conn, [volume["id"]])
    note = VolumeNotification(
        message_id=uuid.uuid4(),
        event_type=event_type,
        priority=_priority(event_type),
        publisher_id=PUBLISHER,
        timestamp=datetime.now(UTC),
        request_id=request_id,
        payload=VolumePayload.of(volume_from_row(volume, attached[volume["id"]])),
    )
    await _append(conn, note, request_id)
