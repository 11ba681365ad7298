"""Block storage (Cinder-like, RBD backed): volumes, attachments, snapshots."""

from __future__ import annotations

from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Model, Resource
from schemas.types import Description, HostName, Metadata, OptionalName, PositiveInt


class VolumeStatus(StrEnum):
    """Cinder's volume status set."""

    CREATING = "creating"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    DETACHING = "detaching"
    IN_USE = "in-use"
    MAINTENANCE = "maintenance"
    DELETING = "deleting"
    AWAITING_TRANSFER = "awaiting-transfer"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    BACKING_UP = "backing-up"
    RESTORING_BACKUP = "restoring-backup"
    ERROR_BACKING_UP = "error_backing-up"
    ERROR_RESTORING = "error_restoring"
    ERROR_EXTENDING = "error_extending"
    DOWNLOADING = "downloading"
    UPLOADING = "uploading"
    RETYPING = "retyping"
    EXTENDING = "extending"


class AttachStatus(StrEnum):
    """Cinder's attachment status set."""

    RESERVED = "reserved"
    ATTACHING = "attaching"
    ATTACHED = "attached"
    DETACHING = "detaching"
    DETACHED = "detached"
    ERROR_ATTACHING = "error_attaching"
    ERROR_DETACHING = "error_detaching"


class AttachMode(StrEnum):
    RW = "rw"
    RO = "ro"


class RbdConnection(Model):
    """What libvirt needs to attach an RBD image as a network disk."""

    pool: str = Field(min_length=1, max_length=128)
    image: str = Field(min_length=1, max_length=255)
    monitors: tuple[str, ...] = Field(min_length=1)
    user: str = Field("cinder", min_length=1)
    secret_uuid: UUID | None = None
    auth_enabled: bool = True

    @model_validator(mode="after")
    def _secret_when_auth(self) -> Self:
        if self.auth_enabled and self.secret_uuid is None:
            raise ValueError("cephx authentication needs a libvirt secret_uuid")
        return self


class VolumeAttachment(Resource):
    id: UUID
    volume_id: UUID
    instance_id: UUID
    host: HostName | None = None
    device: str | None = Field(None, pattern=r"^/dev/[a-z]+[a-z0-9]*$")
    status: AttachStatus = AttachStatus.RESERVED
    mode: AttachMode = AttachMode.RW
    connection: RbdConnection | None = None
    attached_at: AwareDatetime | None = None
    detached_at: AwareDatetime | None = None


class Volume(Resource):
    id: UUID
    name: OptionalName = ""
    description: Description = ""
    project_id: UUID
    user_id: UUID | None = None
    size_gb: PositiveInt
    status: VolumeStatus = VolumeStatus.CREATING
    availability_zone: str = "nova"
    volume_type: str | None = None
    bootable: bool = False
    multiattach: bool = False
    encrypted: bool = False
    source_volume_id: UUID | None = None
    snapshot_id: UUID | None = None
    image_id: UUID | None = None
    attachments: tuple[VolumeAttachment, ...] = ()
    metadata: Metadata = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _attachments(self) -> Self:
        sources = [self.source_volume_id, self.snapshot_id, self.image_id]
        if sum(source is not None for source in sources) > 1:
            raise ValueError("a volume has at most one source (volume, snapshot or image)")
        live = [a for a in self.attachments if a.status is not AttachStatus.DETACHED]
        if len(live) > 1 and not self.multiattach:
            raise ValueError("only a multiattach volume can have several attachments")
        for attachment in self.attachments:
            if attachment.volume_id != self.id:
                raise ValueError(f"attachment {attachment.id} belongs to another volume")
        return self


class SnapshotStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"


class VolumeSnapshot(Resource):
    id: UUID
    volume_id: UUID
    project_id: UUID
    name: OptionalName = ""
    size_gb: PositiveInt
    status: SnapshotStatus = SnapshotStatus.CREATING
    created_at: AwareDatetime | None = None
