"""Conductor RPC: actions on an existing server (POST /servers/{id}/action).

`action` is one of the models below, told apart by its `kind`. The reply is
common.accepted; progress and the outcome arrive as instance.<action>.* notifications.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Model
from schemas.messages.conductor_servers import ConductorRequest
from schemas.types import HostName, Metadata, Name


class RebootType(StrEnum):
    SOFT = "SOFT"
    HARD = "HARD"


class Reboot(Model):
    kind: Literal["reboot"] = "reboot"
    type: RebootType = RebootType.SOFT


class Stop(Model):
    kind: Literal["stop"] = "stop"


class Start(Model):
    kind: Literal["start"] = "start"


class Pause(Model):
    kind: Literal["pause"] = "pause"


class Unpause(Model):
    kind: Literal["unpause"] = "unpause"


class Suspend(Model):
    kind: Literal["suspend"] = "suspend"


class Resume(Model):
    kind: Literal["resume"] = "resume"


class Resize(Model):
    kind: Literal["resize"] = "resize"
    flavor_id: UUID


class ConfirmResize(Model):
    kind: Literal["confirm_resize"] = "confirm_resize"


class RevertResize(Model):
    kind: Literal["revert_resize"] = "revert_resize"


class Migrate(Model):
    """Cold migration; `host` (admin only) pins the destination, else the scheduler picks."""

    kind: Literal["migrate"] = "migrate"
    host: HostName | None = None


class Rebuild(Model):
    kind: Literal["rebuild"] = "rebuild"
    image_id: UUID
    name: Name | None = None
    metadata: Metadata | None = None
    preserve_ephemeral: bool = False


class Lock(Model):
    kind: Literal["lock"] = "lock"
    reason: str | None = Field(None, max_length=255)


class Unlock(Model):
    kind: Literal["unlock"] = "unlock"


Action = Annotated[
    Reboot
    | Stop
    | Start
    | Pause
    | Unpause
    | Suspend
    | Resume
    | Resize
    | ConfirmResize
    | RevertResize
    | Migrate
    | Rebuild
    | Lock
    | Unlock,
    Field(discriminator="kind"),
]


class ServerAction(ConductorRequest):
    message_name = "conductor.server_action"
    message_version = 1

    server_id: UUID
    action: Action
