"""Instances (servers), their actions, action events and faults."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Model, Resource
from schemas.compute import Flavor
from schemas.instance_state import ApiStatus, PowerState, TaskState, VmState, api_status
from schemas.types import Description, HostName, Metadata, Name, Percent


class InstanceFault(Model):
    """The user-visible reason an instance is in ERROR (Nova's instance fault)."""

    code: Annotated[int, Field(ge=400, le=599)] = 500
    message: str = Field(min_length=1, max_length=255)
    details: str = Field("", max_length=65535)
    host: HostName | None = None
    created_at: AwareDatetime | None = None


class Instance(Resource):
    """A server. `status` is derived from vm_state and task_state, never stored."""

    id: UUID
    name: Name
    project_id: UUID
    user_id: UUID
    flavor: Flavor
    image_id: UUID | None = None
    host: HostName | None = None
    availability_zone: str | None = None
    vm_state: VmState = VmState.BUILDING
    task_state: TaskState | None = TaskState.SCHEDULING
    power_state: PowerState = PowerState.NOSTATE
    key_name: str | None = Field(None, max_length=255)
    metadata: Metadata = Field(default_factory=dict)
    security_groups: tuple[str, ...] = ()
    server_group_id: UUID | None = None
    config_drive: bool = False
    locked: bool = False
    locked_reason: str | None = Field(None, max_length=255)
    progress: Percent = 0
    description: Description | None = None
    hostname: str | None = Field(None, max_length=63)
    fault: InstanceFault | None = None
    launched_at: AwareDatetime | None = None
    terminated_at: AwareDatetime | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None

    @property
    def status(self) -> ApiStatus:
        return api_status(self.vm_state, self.task_state)


class InstanceActionName(StrEnum):
    CREATE = "create"
    DELETE = "delete"
    REBOOT = "reboot"
    STOP = "stop"
    START = "start"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    SUSPEND = "suspend"
    RESUME = "resume"
    RESIZE = "resize"
    CONFIRM_RESIZE = "confirmResize"
    REVERT_RESIZE = "revertResize"
    MIGRATE = "migrate"
    REBUILD = "rebuild"
    LOCK = "lock"
    UNLOCK = "unlock"
    ATTACH_VOLUME = "attach_volume"
    DETACH_VOLUME = "detach_volume"
    ATTACH_INTERFACE = "attach_interface"
    DETACH_INTERFACE = "detach_interface"


class EventResult(StrEnum):
    SUCCESS = "Success"
    ERROR = "Error"


class InstanceActionEvent(Model):
    """A step of an action (e.g. compute_reboot_instance) with where and how it ended."""

    event: str = Field(min_length=1, max_length=255)
    start_time: AwareDatetime
    finish_time: AwareDatetime | None = None
    result: EventResult | None = None
    host: HostName | None = None
    details: str | None = Field(None, max_length=65535)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.finish_time is not None and self.finish_time < self.start_time:
            raise ValueError("finish_time is before start_time")
        return self


class InstanceAction(Resource):
    """One user request on an instance (GET /servers/{id}/os-instance-actions)."""

    request_id: str = Field(min_length=1, max_length=64)
    instance_id: UUID
    action: InstanceActionName
    user_id: UUID | None = None
    project_id: UUID | None = None
    start_time: AwareDatetime
    finish_time: AwareDatetime | None = None
    message: str | None = Field(None, max_length=255)
    events: tuple[InstanceActionEvent, ...] = ()
