"""Public notifications on `skymesh.notifications`, modelled on Nova's versioned ones.

Each envelope names its `event_type` (`instance.create.end`), priority, publisher and
time; `sequence` is gap-free and ordered, assigned by the outbox relay when it publishes
(None before that). The payload model depends on the event's subject (instance, volume,
port); `notification_type(event_type)` picks the envelope model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Message
from schemas.messages.payloads import InstancePayload, PortPayload, VolumePayload
from schemas.types import NonNegInt

PHASES = ("start", "end", "error")
INSTANCE_ACTIONS = (
    "create",
    "delete",
    "reboot",
    "power_off",
    "power_on",
    "pause",
    "unpause",
    "suspend",
    "resume",
    "resize",
    "resize_confirm",
    "resize_revert",
    "rebuild",
    "migrate",
    "volume_attach",
    "volume_detach",
    "interface_attach",
    "interface_detach",
)
PORT_ACTIONS = ("create", "update", "delete")
VOLUME_ACTIONS = ("create", "delete", "attach", "detach", "resize")


def _events(subject: str, actions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{subject}.{action}.{phase}" for action in actions for phase in PHASES)


INSTANCE_EVENT_TYPES = (*_events("instance", INSTANCE_ACTIONS), "instance.update")
PORT_EVENT_TYPES = _events("port", PORT_ACTIONS)
VOLUME_EVENT_TYPES = _events("volume", VOLUME_ACTIONS)
EVENT_TYPES: frozenset[str] = frozenset(
    (*INSTANCE_EVENT_TYPES, *PORT_EVENT_TYPES, *VOLUME_EVENT_TYPES)
)
"""Every event type skymesh publishes (instance.update: any state change)."""


class Priority(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class Notification(Message):
    """The envelope (abstract); subclasses fix the payload model and the subject."""

    subject: ClassVar[str] = ""

    message_id: UUID
    event_type: str
    priority: Priority = Priority.INFO
    publisher_id: str = Field(min_length=1, max_length=255)
    timestamp: AwareDatetime
    sequence: NonNegInt | None = None
    request_id: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _known_event(self) -> Self:
        if self.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event_type {self.event_type!r}")
        if self.event_type.split(".", 1)[0] != self.subject:
            raise ValueError(f"{self.event_type!r} is not a {self.subject} event")
        if self.event_type.endswith(".error") and self.priority is not Priority.ERROR:
            raise ValueError("an .error event has priority ERROR")
        return self


class InstanceNotification(Notification):
    subject = "instance"
    message_name = "notification.instance"
    message_version = 1

    payload: InstancePayload


class VolumeNotification(Notification):
    subject = "volume"
    message_name = "notification.volume"
    message_version = 1

    payload: VolumePayload


class PortNotification(Notification):
    subject = "port"
    message_name = "notification.port"
    message_version = 1

    payload: PortPayload


_BY_SUBJECT: dict[str, type[Notification]] = {
    model.subject: model for model in (InstanceNotification, VolumeNotification, PortNotification)
}


def notification_type(event_type: str) -> type[Notification]:
    """The envelope model for `event_type` (KeyError when unknown)."""
    if event_type not in EVENT_TYPES:
        raise KeyError(event_type)
    return _BY_SUBJECT[event_type.split(".", 1)[0]]


def parse_notification(data: dict[str, Any]) -> Notification:
    """Validate a notification whose model is chosen by its event_type."""
    return notification_type(str(data.get("event_type", ""))).model_validate(data)
