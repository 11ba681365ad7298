"""Conductor RPC: block storage volumes (create, delete, get, list).

Routed as `conductor.<method>`. A volume is created `creating` and becomes `available`
(or `error`) when the storage agent reports it; delete answers common.accepted and the
volume goes when the storage agent confirms. Attaching is on the server API
(conductor_servers.AttachVolume).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from schemas.base import Message
from schemas.messages.conductor_servers import ConductorRequest
from schemas.storage import Volume, VolumeStatus
from schemas.types import Description, Metadata, OptionalName

MAX_SIZE_GB = 16384


class CreateVolume(ConductorRequest):
    """An empty volume of `size_gb` (counted against the volumes and gigabytes quotas)."""

    message_name = "conductor.create_volume"
    message_version = 1

    size_gb: Annotated[int, Field(ge=1, le=MAX_SIZE_GB)]
    name: OptionalName = ""
    description: Description = ""
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    metadata: Metadata = Field(default_factory=dict)


class CreateVolumeReply(Message):
    message_name = "conductor.create_volume.reply"
    message_version = 1

    volume: Volume


class DeleteVolume(ConductorRequest):
    """Refused (conflict) while the volume is attached or busy."""

    message_name = "conductor.delete_volume"
    message_version = 1

    volume_id: UUID


class GetVolume(ConductorRequest):
    message_name = "conductor.get_volume"
    message_version = 1

    volume_id: UUID


class GetVolumeReply(Message):
    message_name = "conductor.get_volume.reply"
    message_version = 1

    volume: Volume


class ListVolumes(ConductorRequest):
    """The caller's project's volumes, newest first; `all_projects` is for admins."""

    message_name = "conductor.list_volumes"
    message_version = 1

    status: VolumeStatus | None = None
    all_projects: bool = False
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000
    marker: UUID | None = None


class ListVolumesReply(Message):
    message_name = "conductor.list_volumes.reply"
    message_version = 1

    volumes: tuple[Volume, ...] = ()
    next_marker: UUID | None = None
