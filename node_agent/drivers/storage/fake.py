"""RBD images and snapshots as JSON in the agent's state directory. A clone source must
be a snapshot that exists unless its pool is "images" (image snapshots are made by the
image store, which this fake does not model). Fault injection through `faults`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import InvalidStateError, NotFoundError
from node_agent.drivers.fake_base import JsonBackedFake
from node_agent.drivers.storage.base import VolumeInfo
from schemas.messages.agent_storage import (
    CloneVolume,
    CreateVolume,
    RbdImage,
    ResizeVolume,
    SnapshotVolume,
)

IMAGE_POOL = "images"


def _image_key(target: RbdImage) -> str:
    return f"{target.pool}/{target.image}"


class FakeStorage(JsonBackedFake):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, "storage")

    async def create_volume(self, request: CreateVolume) -> VolumeInfo:
        await self.faults.checkpoint("create_volume")
        if request.source is not None and request.source.pool != IMAGE_POOL:
            self._need_snapshot(request.source)
        return self._put(request.volume_id, request.target, request.size_gb)

    async def clone_volume(self, request: CloneVolume) -> VolumeInfo:
        await self.faults.checkpoint("clone_volume")
        if _image_key(request.source) not in self._table("images"):
            raise NotFoundError(f"no RBD image {_image_key(request.source)}")
        return self._put(request.volume_id, request.target, request.size_gb)

    async def delete_volume(self, volume_id: UUID, target: RbdImage) -> bool:
        await self.faults.checkpoint("delete_volume")
        key = _image_key(target)
        if any(s["image"] == key for s in self._table("snapshots").values()):
            raise InvalidStateError(f"{key} has snapshots")
        found = self._table("images").pop(key, None) is not None
        self._save()
        return found

    async def resize_volume(self, request: ResizeVolume) -> VolumeInfo:
        await self.faults.checkpoint("resize_volume")
        image = self._table("images").get(_image_key(request.target))
        if image is None:
            raise NotFoundError(f"no RBD image {_image_key(request.target)}")
        if request.new_size_gb < image["size_gb"]:
            raise InvalidStateError("RBD images only grow")
        return self._put(request.volume_id, request.target, request.new_size_gb)

    async def snapshot_volume(self, request: SnapshotVolume) -> None:
        await self.faults.checkpoint("snapshot_volume")
        key = _image_key(request.target)
        if key not in self._table("images"):
            raise NotFoundError(f"no RBD image {key}")
        self._table("snapshots")[f"{key}@{request.target.snapshot}"] = {"image": key}
        self._save()

    async def delete_snapshot(self, target: RbdImage) -> bool:
        await self.faults.checkpoint("delete_snapshot")
        found = self._table("snapshots").pop(f"{_image_key(target)}@{target.snapshot}", None)
        self._save()
        return found is not None

    async def list_volumes(self) -> list[VolumeInfo]:
        await self.faults.checkpoint("list_volumes")
        return [self._info(v) for _key, v in sorted(self._table("images").items())]

    def _need_snapshot(self, source: RbdImage) -> None:
        if f"{_image_key(source)}@{source.snapshot}" not in self._table("snapshots"):
            raise NotFoundError(f"no RBD snapshot {_image_key(source)}@{source.snapshot}")

    def _put(self, volume_id: UUID, target: RbdImage, size_gb: int) -> VolumeInfo:
        value: dict[str, Any] = {
            "volume_id": str(volume_id),
            "pool": target.pool,
            "image": target.image,
            "size_gb": size_gb,
        }
        self._table("images")[_image_key(target)] = value
        self._save()
        return self._info(value)

    @staticmethod
    def _info(value: dict[str, Any]) -> VolumeInfo:
        return VolumeInfo(
            volume_id=UUID(value["volume_id"]),
            pool=value["pool"],
            image=value["image"],
            size_gb=int(value["size_gb"]),
        )
