"""Conductor RPC for the gateway's event streams: replay of published notifications.

A subscriber that reconnects names the last outbox sequence it saw; the gateway pages
through `conductor.replay_notifications` until it has caught up, then goes on with the
live `skymesh.notifications` stream. Type patterns are fnmatch-style (`*` matches any
run of characters, dots included; `?` one character): `instance.*` is every instance
event, `volume.attach.*` the three phases of a volume attach.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from schemas.base import Message, Model
from schemas.types import NonNegInt

EventPattern = Annotated[str, Field(pattern=r"^[a-z0-9_.*?]{1,255}$")]
"""An fnmatch-style event type pattern over [a-z0-9_.] (`instance.*`, `*.error`)."""


class StoredNotification(Model):
    """One notification as it was published: its outbox sequence, its event type and
    the notification body (the `sequence` field set, as on the wire)."""

    sequence: Annotated[int, Field(gt=0)]
    event_type: str = Field(min_length=1, max_length=255)
    notification: dict[str, Any]


class ReplayNotifications(Message):
    """Notifications with a sequence above `after`, oldest first, of the caller's
    project (every project for an admin asking for all of them), whose event type
    matches one of `types` (none: every type). Raises Gone when sequences right after
    `after` were purged by the retention, or `after` lies beyond the last sequence."""

    message_name = "conductor.replay_notifications"
    message_version = 1

    after: NonNegInt
    limit: Annotated[int, Field(ge=1, le=1000)] = 500
    types: Annotated[tuple[EventPattern, ...], Field(max_length=32)] = ()


class ReplayNotificationsReply(Message):
    message_name = "conductor.replay_notifications.reply"
    message_version = 1

    notifications: tuple[StoredNotification, ...] = ()
    through: NonNegInt  # every sequence up to this one was scanned: ask again after it
    complete: bool  # nothing numbered after `through` yet: go live
