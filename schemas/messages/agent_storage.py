"""Node agent RPC, storage role: RBD images for volumes.

Routed as `node_agent.storage.<method>`. Idempotent casts; outcomes arrive as
volume.created / volume.failed / volume.deleted facts.
"""

from __future__ import annotations

from typing import Self
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Message, Model
from schemas.types import PositiveInt


class RbdImage(Model):
    pool: str = Field(min_length=1, max_length=128)
    image: str = Field(min_length=1, max_length=255)
    snapshot: str | None = Field(None, min_length=1, max_length=255)


class CreateVolume(Message):
    """A new RBD image of `size_gb`, empty or cloned from `source` (an image or volume
    snapshot) and grown to `size_gb`."""

    message_name = "node_agent.storage.create_volume"
    message_version = 1

    volume_id: UUID
    target: RbdImage
    size_gb: PositiveInt
    source: RbdImage | None = None

    @model_validator(mode="after")
    def _clone_from_snapshot(self) -> Self:
        if self.source is not None and self.source.snapshot is None:
            raise ValueError("a clone source must name a snapshot")
        if self.target.snapshot is not None:
            raise ValueError("the target is an image, not a snapshot")
        return self


class CloneVolume(Message):
    """A full copy of another volume (snapshot, clone, flatten)."""

    message_name = "node_agent.storage.clone_volume"
    message_version = 1

    volume_id: UUID
    source_volume_id: UUID
    source: RbdImage
    target: RbdImage
    size_gb: PositiveInt


class DeleteVolume(Message):
    message_name = "node_agent.storage.delete_volume"
    message_version = 1

    volume_id: UUID
    target: RbdImage


class ResizeVolume(Message):
    """Grow a volume (RBD images never shrink here)."""

    message_name = "node_agent.storage.resize_volume"
    message_version = 1

    volume_id: UUID
    target: RbdImage
    new_size_gb: PositiveInt


class SnapshotVolume(Message):
    message_name = "node_agent.storage.snapshot_volume"
    message_version = 1

    volume_id: UUID
    snapshot_id: UUID
    target: RbdImage

    @model_validator(mode="after")
    def _named_snapshot(self) -> Self:
        if self.target.snapshot is None:
            raise ValueError("name the snapshot to create in target.snapshot")
        return self


class DeleteSnapshot(Message):
    message_name = "node_agent.storage.delete_snapshot"
    message_version = 1

    snapshot_id: UUID
    target: RbdImage
