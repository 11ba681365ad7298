"""Conductor RPC: the server API (create, delete, get, list, volumes and interfaces).

Routed as `conductor.<method>`; the caller's RequestContext travels in the envelope.
Replies are `<name>.reply`, or common.accepted when the outcome comes later.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, field_validator, model_validator

from schemas.base import Message, Model
from schemas.block_device import BlockDeviceMapping, boot_device, check_mappings
from schemas.instance import Instance
from schemas.instance_state import ApiStatus
from schemas.network import Port
from schemas.storage import VolumeAttachment
from schemas.types import HostName, IpAddress, Metadata, Name, PositiveInt

MAX_USER_DATA = 65535


class ConductorRequest(Message):
    """A user-facing conductor request (abstract). The caller's RequestContext travels
    in the envelope; handlers require its user and project."""


class NetworkRequest(Model):
    """One NIC: a network to create a port on, or an existing port."""

    network_id: UUID | None = None
    port_id: UUID | None = None
    fixed_ip: IpAddress | None = None
    tag: str | None = Field(None, max_length=60)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.network_id is None) == (self.port_id is None):
            raise ValueError("give exactly one of network_id and port_id")
        if self.fixed_ip is not None and self.network_id is None:
            raise ValueError("fixed_ip needs network_id")
        return self


class CreateServer(ConductorRequest):
    message_name = "conductor.create_server"
    message_version = 1

    name: Name
    flavor_id: UUID
    image_id: UUID | None = None
    networks: tuple[NetworkRequest, ...] | Literal["auto", "none"] = "auto"
    block_device_mapping: tuple[BlockDeviceMapping, ...] = ()
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    server_group_id: UUID | None = None
    metadata: Metadata = Field(default_factory=dict)
    key_name: str | None = Field(None, min_length=1, max_length=255)
    user_data: str | None = None
    security_groups: tuple[str, ...] = ("default",)
    config_drive: bool = False
    description: str | None = Field(None, max_length=255)
    min_count: PositiveInt = 1
    max_count: PositiveInt = 1

    @field_validator("user_data")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value) > MAX_USER_DATA:
            raise ValueError(f"user_data is longer than {MAX_USER_DATA} characters")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("user_data must be base64 encoded") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_count > self.max_count:
            raise ValueError("min_count is larger than max_count")
        check_mappings(self.block_device_mapping)
        if self.image_id is None and boot_device(self.block_device_mapping) is None:
            raise ValueError("give image_id or a block device mapping with boot_index 0")
        return self

    @property
    def boots_from_volume(self) -> bool:
        boot = boot_device(self.block_device_mapping)
        return boot is not None and boot.boots_from_volume


class CreateServerReply(Message):
    message_name = "conductor.create_server.reply"
    message_version = 1

    server_ids: Annotated[tuple[UUID, ...], Field(min_length=1)]
    reservation_id: str = Field(min_length=1, max_length=64)


class DeleteServer(ConductorRequest):
    message_name = "conductor.delete_server"
    message_version = 1

    server_id: UUID
    force: bool = False


class GetServer(ConductorRequest):
    message_name = "conductor.get_server"
    message_version = 1

    server_id: UUID


class GetServerReply(Message):
    message_name = "conductor.get_server.reply"
    message_version = 1

    server: Instance


class ListServers(ConductorRequest):
    """Filters combine with AND; `host` and `project_id` are for admins."""

    message_name = "conductor.list_servers"
    message_version = 1

    name: str | None = Field(None, max_length=255)
    status: ApiStatus | None = None
    host: HostName | None = None
    project_id: UUID | None = None
    flavor_id: UUID | None = None
    image_id: UUID | None = None
    changes_since: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000
    marker: UUID | None = None
    deleted: bool = False


class ListServersReply(Message):
    message_name = "conductor.list_servers.reply"
    message_version = 1

    servers: tuple[Instance, ...] = ()
    next_marker: UUID | None = None


class AttachVolume(ConductorRequest):
    message_name = "conductor.attach_volume"
    message_version = 1

    server_id: UUID
    volume_id: UUID
    device: str | None = Field(None, pattern=r"^/dev/[a-z]+[a-z0-9]*$")
    tag: str | None = Field(None, max_length=60)
    delete_on_termination: bool = False


class AttachVolumeReply(Message):
    message_name = "conductor.attach_volume.reply"
    message_version = 1

    attachment: VolumeAttachment


class DetachVolume(ConductorRequest):
    message_name = "conductor.detach_volume"
    message_version = 1

    server_id: UUID
    volume_id: UUID


class AttachInterface(ConductorRequest):
    message_name = "conductor.attach_interface"
    message_version = 1

    server_id: UUID
    port_id: UUID | None = None
    network_id: UUID | None = None
    fixed_ips: tuple[IpAddress, ...] = ()
    tag: str | None = Field(None, max_length=60)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.network_id is None) == (self.port_id is None):
            raise ValueError("give exactly one of network_id and port_id")
        if self.fixed_ips and self.network_id is None:
            raise ValueError("fixed_ips need network_id")
        return self


class AttachInterfaceReply(Message):
    message_name = "conductor.attach_interface.reply"
    message_version = 1

    port: Port


class DetachInterface(ConductorRequest):
    message_name = "conductor.detach_interface"
    message_version = 1

    server_id: UUID
    port_id: UUID
