"""Public notifications, written to the outbox in the caller's transaction.

Names and payloads follow Nova's versioned notifications (`instance.create.end`, ...);
the relay assigns the sequence number when it publishes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from conductor.db.queries import outbox
from conductor.db.types import Connection
from schemas.instance import Instance
from schemas.messages.notifications import InstanceNotification, Priority
from schemas.messages.payloads import InstancePayload

PUBLISHER = "skymesh-conductor"


async def instance_event(
    conn: Connection,
    event_type: str,
    instance: Instance,
    *,
    request_id: str | None = None,
) -> None:
    """Queue `event_type` (e.g. instance.create.end) about `instance`."""
    note = InstanceNotification(
        message_id=uuid.uuid4(),
        event_type=event_type,
        priority=Priority.ERROR if event_type.endswith(".error") else Priority.INFO,
        publisher_id=PUBLISHER,
        timestamp=datetime.now(UTC),
        request_id=request_id,
        payload=InstancePayload.of(instance),
    )
    await outbox.append(
        conn,
        event_type,
        {
            "schema": note.message_name,
            "version": note.message_version,
            "body": note.model_dump(mode="json"),
        },
        request_id=request_id,
    )
