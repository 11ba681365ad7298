"""The storage role's driver: RBD images for volumes. Idempotent: creating a volume
that exists with the same size returns it, deleting a missing one returns False."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from schemas.messages.agent_storage import (
    CloneVolume,
    CreateVolume,
    RbdImage,
    ResizeVolume,
    SnapshotVolume,
)


@dataclass(frozen=True)
class VolumeInfo:
    volume_id: UUID
    pool: str
    image: str
    size_gb: int


class StorageDriver(Protocol):
    async def create_volume(self, request: CreateVolume) -> VolumeInfo: ...

    async def clone_volume(self, request: CloneVolume) -> VolumeInfo: ...

    async def delete_volume(self, volume_id: UUID, target: RbdImage) -> bool: ...

    async def resize_volume(self, request: ResizeVolume) -> VolumeInfo: ...

    async def snapshot_volume(self, request: SnapshotVolume) -> None: ...

    async def delete_snapshot(self, target: RbdImage) -> bool: ...

    async def list_volumes(self) -> list[VolumeInfo]: ...
