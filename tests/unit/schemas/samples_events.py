"""Samples of the events area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from uuid import UUID

from schemas.base import Message
from schemas.messages import conductor_events as ce

NOTIFICATION = {
    "sequence": 42,
    "event_type": "instance.create.end",
    "payload": {"uuid": str(UUID(int=20)), "tenant_id": str(UUID(int=2))},
}


def messages() -> list[Message]:
    return [
        ce.ReplayNotifications(after=41, limit=100, types=("instance.*", "volume.attach.?nd")),
        ce.ReplayNotificationsReply(
            notifications=(
                ce.StoredNotification(
                    sequence=42, event_type="instance.create.end", notification=NOTIFICATION
                ),
            ),
            through=42,
            complete=True,
        ),
    ]
