"""Block device mapping v2: the disks a server boots and runs with."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Model
from schemas.types import PositiveInt


class SourceType(StrEnum):
    IMAGE = "image"
    VOLUME = "volume"
    SNAPSHOT = "snapshot"
    BLANK = "blank"


class DestinationType(StrEnum):
    VOLUME = "volume"
    LOCAL = "local"


class BlockDeviceMapping(Model):
    """One entry of block_device_mapping_v2. boot_index 0 is the boot disk; None: not
    bootable. Boot from volume: source image (or volume/snapshot), destination volume."""

    boot_index: int | None = Field(None, ge=-1)
    uuid: UUID | None = None
    source_type: SourceType
    destination_type: DestinationType = DestinationType.VOLUME
    volume_size: PositiveInt | None = None
    volume_type: str | None = Field(None, max_length=255)
    delete_on_termination: bool = False
    device_name: str | None = Field(None, pattern=r"^(/dev/)?[a-z]+[a-z0-9]*$")
    disk_bus: str | None = Field(None, pattern=r"^(virtio|scsi|ide|usb|sata)$")
    device_type: str | None = Field(None, pattern=r"^(disk|cdrom|floppy|lun)$")
    guest_format: str | None = Field(None, max_length=32)
    tag: str | None = Field(None, max_length=60)

    @model_validator(mode="after")
    def _combination(self) -> Self:
        source, dest = self.source_type, self.destination_type
        if source is SourceType.BLANK:
            if self.uuid is not None:
                raise ValueError("a blank device has no source uuid")
            if self.volume_size is None:
                raise ValueError("a blank device needs volume_size")
        elif self.uuid is None:
            raise ValueError(f"source_type {source} needs a uuid")
        if dest is DestinationType.LOCAL and source not in (SourceType.IMAGE, SourceType.BLANK):
            raise ValueError(f"source_type {source} cannot have a local destination")
        if (
            source is SourceType.IMAGE
            and dest is DestinationType.VOLUME
            and self.volume_size is None
        ):
            raise ValueError("creating a volume from an image needs volume_size")
        return self

    @property
    def boots_from_volume(self) -> bool:
        return self.boot_index == 0 and self.destination_type is DestinationType.VOLUME


def boot_device(mappings: Sequence[BlockDeviceMapping]) -> BlockDeviceMapping | None:
    """The mapping with boot_index 0, if any."""
    return next((bdm for bdm in mappings if bdm.boot_index == 0), None)


def check_mappings(mappings: Sequence[BlockDeviceMapping]) -> None:
    """ValueError when boot indexes repeat or device names collide."""
    indexes = [
        bdm.boot_index for bdm in mappings if bdm.boot_index is not None and bdm.boot_index >= 0
    ]
    if len(indexes) != len(set(indexes)):
        raise ValueError("boot_index values must be unique")
    names = [bdm.device_name for bdm in mappings if bdm.device_name]
    if len(names) != len(set(names)):
        raise ValueError("device names must be unique")
