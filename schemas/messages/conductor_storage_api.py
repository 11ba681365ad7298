"""Conductor RPC for the gateway's Image v2 and Block Storage v3 APIs.

Routed as `conductor.<method>`. Image data never travels here: the gateway streams it
into the image store and sends only what it measured (size, checksums, location).
Every request is scoped by the caller's RequestContext: a non-admin sees and touches
only images it may see (public, community, its own, shared with it) and its own
project's volumes; other projects' resources are NotFound.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.base import Message, Model
from schemas.compute import ContainerFormat, DiskFormat, ImageStatus, Visibility
from schemas.messages.conductor_servers import ConductorRequest
from schemas.storage import Volume, VolumeStatus
from schemas.types import Description, Metadata, NonNegInt, OptionalName

MAX_VOLUME_GB = 16384
ImageTag = Annotated[str, Field(min_length=1, max_length=255)]
PropertyKey = Annotated[str, Field(min_length=1, max_length=255)]
PropertyValue = Annotated[str, Field(max_length=65535)]
Properties = Annotated[dict[PropertyKey, PropertyValue], Field(max_length=128)]
Md5 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Sha512 = Annotated[str, Field(pattern=r"^[0-9a-f]{128}$")]
Location = Annotated[str, Field(min_length=1, max_length=4096)]


# -- images ---------------------------------------------------------------------------
class StoredImage(Model):
    """An image as the Image API shows it, plus `location` (where its data is, for the
    gateway's image store; never shown to users)."""

    id: UUID
    name: OptionalName = ""
    status: ImageStatus = ImageStatus.QUEUED
    visibility: Visibility = Visibility.SHARED
    owner: UUID | None = None
    protected: bool = False
    disk_format: DiskFormat | None = None
    container_format: ContainerFormat | None = None
    size: NonNegInt | None = None
    virtual_size: NonNegInt | None = None
    checksum: Md5 | None = None
    os_hash_algo: str | None = Field(None, max_length=64)
    os_hash_value: str | None = Field(None, pattern=r"^[0-9a-f]{32,128}$")
    min_disk: NonNegInt = 0
    min_ram: NonNegInt = 0
    tags: tuple[ImageTag, ...] = ()
    properties: Properties = Field(default_factory=dict)
    location: Location | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class ImageReply(Message):
    message_name = "conductor.image.reply"
    message_version = 1

    image: StoredImage


class CreateImage(ConductorRequest):
    """A `queued` image owned by the caller's project; `public` (and `community`
    visibility of another owner) is for admins."""

    message_name = "conductor.create_image"
    message_version = 1

    image_id: UUID | None = None
    name: OptionalName = ""
    visibility: Visibility = Visibility.SHARED
    disk_format: DiskFormat | None = None
    container_format: ContainerFormat | None = None
    min_disk: NonNegInt = 0
    min_ram: NonNegInt = 0
    protected: bool = False
    tags: tuple[ImageTag, ...] = Field((), max_length=128)
    properties: Properties = Field(default_factory=dict)


class GetImage(ConductorRequest):
    message_name = "conductor.get_image"
    message_version = 1

    image_id: UUID


ImageSortKey = Literal[
    "name", "status", "created_at", "updated_at", "size", "id", "disk_format", "visibility"
]


class FindImages(ConductorRequest):
    """Images the caller may see (admins: every image), filtered and paged by `marker`
    in `sort_key` order."""

    message_name = "conductor.find_images"
    message_version = 1

    ids: tuple[UUID, ...] | None = Field(None, max_length=1000)
    name: str | None = Field(None, max_length=255)
    status: ImageStatus | None = None
    visibility: Visibility | Literal["all"] | None = None
    owner: UUID | None = None
    tags: tuple[ImageTag, ...] = ()
    limit: Annotated[int, Field(ge=1, le=1000)] = 25
    marker: UUID | None = None
    sort_key: ImageSortKey = "created_at"
    sort_dir: Literal["asc", "desc"] = "desc"


class FindImagesReply(Message):
    message_name = "conductor.find_images.reply"
    message_version = 1

    images: tuple[StoredImage, ...] = ()
    more: bool = False  # another page follows the last image


class UpdateImage(ConductorRequest):
    """Change what is given (None: unchanged); only the owner (or an admin) may.
    `location` registers where the data already is (admins only)."""

    message_name = "conductor.update_image"
    message_version = 1

    image_id: UUID
    name: OptionalName | None = None
    visibility: Visibility | None = None
    disk_format: DiskFormat | None = None
    container_format: ContainerFormat | None = None
    min_disk: NonNegInt | None = None
    min_ram: NonNegInt | None = None
    protected: bool | None = None
    tags: tuple[ImageTag, ...] | None = Field(None, max_length=128)
    add_tags: tuple[ImageTag, ...] = ()
    remove_tags: tuple[ImageTag, ...] = ()
    set_properties: Properties = Field(default_factory=dict)
    remove_properties: tuple[PropertyKey, ...] = ()
    location: Location | None = None
    location_size: NonNegInt | None = None


class DeleteImage(ConductorRequest):
    """Soft-delete; Forbidden when protected. The reply carries the location so that the
    gateway can remove the data."""

    message_name = "conductor.delete_image"
    message_version = 1

    image_id: UUID


class StartImageUpload(ConductorRequest):
    """queued -> saving (Conflict otherwise): the gateway is about to stream data."""

    message_name = "conductor.start_image_upload"
    message_version = 1

    image_id: UUID


class FinishImageUpload(ConductorRequest):
    """saving -> active with what the gateway measured while storing the data."""

    message_name = "conductor.finish_image_upload"
    message_version = 1

    image_id: UUID
    location: Location
    size: NonNegInt
    checksum: Md5
    os_hash_value: Sha512


class AbortImageUpload(ConductorRequest):
    """saving -> queued: the upload failed, the image may be uploaded again."""

    message_name = "conductor.abort_image_upload"
    message_version = 1

    image_id: UUID


# -- volumes --------------------------------------------------------------------------
class VolumeReply(Message):
    message_name = "conductor.volume.reply"
    message_version = 1

    volume: Volume


class CreateBlockVolume(ConductorRequest):
    """Cinder's volume create: empty, or from an image the caller may see (active, and
    no larger than the volume); counted against the volumes and gigabytes quotas."""

    message_name = "conductor.create_block_volume"
    message_version = 1

    size_gb: Annotated[int, Field(ge=1, le=MAX_VOLUME_GB)]
    name: OptionalName = ""
    description: Description = ""
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    metadata: Metadata = Field(default_factory=dict)
    image_id: UUID | None = None
    volume_type: str | None = Field(None, min_length=1, max_length=255)
    multiattach: bool = False


class FindVolumes(ConductorRequest):
    """The caller's project's volumes (every project's for an admin asking so), newest
    first, filtered exactly by name and status."""

    message_name = "conductor.find_volumes"
    message_version = 1

    name: str | None = Field(None, max_length=255)
    status: VolumeStatus | None = None
    all_projects: bool = False
    project_id: UUID | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000
    marker: UUID | None = None


class FindVolumesReply(Message):
    message_name = "conductor.find_volumes.reply"
    message_version = 1

    volumes: tuple[Volume, ...] = ()
    more: bool = False


class UpdateVolume(ConductorRequest):
    """Rename, describe, replace metadata (None: unchanged)."""

    message_name = "conductor.update_volume"
    message_version = 1

    volume_id: UUID
    name: OptionalName | None = None
    description: Description | None = None
    metadata: Metadata | None = None


class ExtendVolume(ConductorRequest):
    """Grow an available volume (InvalidInput unless larger); the extra gigabytes are
    charged now and given back when the storage agent fails."""

    message_name = "conductor.extend_volume"
    message_version = 1

    volume_id: UUID
    new_size_gb: Annotated[int, Field(ge=1, le=MAX_VOLUME_GB)]


class ResetVolumeStatus(ConductorRequest):
    """Admins only: force the status (Cinder's os-reset_status), e.g. out of error."""

    message_name = "conductor.reset_volume_status"
    message_version = 1

    volume_id: UUID
    status: VolumeStatus


# -- volume quotas --------------------------------------------------------------------
VOLUME_QUOTAS = ("volumes", "gigabytes", "snapshots")


class QuotaUsage(Model):
    limit: int = Field(ge=-1)
    in_use: NonNegInt = 0
    reserved: NonNegInt = 0


class GetVolumeQuotas(ConductorRequest):
    """The block storage quotas of a project (a non-admin: only its own), or the
    defaults every project starts with."""

    message_name = "conductor.get_volume_quotas"
    message_version = 1

    project_id: UUID
    defaults: bool = False


class SetVolumeQuotas(ConductorRequest):
    """Admins only: set limits (-1: unlimited) of volumes, gigabytes, snapshots."""

    message_name = "conductor.set_volume_quotas"
    message_version = 1

    project_id: UUID
    limits: dict[Literal["volumes", "gigabytes", "snapshots"], Annotated[int, Field(ge=-1)]]


class VolumeQuotasReply(Message):
    message_name = "conductor.volume_quotas.reply"
    message_version = 1

    project_id: UUID
    quotas: dict[str, QuotaUsage] = Field(default_factory=dict)
