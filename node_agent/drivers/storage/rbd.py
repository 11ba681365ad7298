"""The storage role on Ceph RBD: one RBD image per volume, as Cinder's RBD driver keeps them.

Volumes are created empty, or as copy-on-write clones of an image snapshot
(`images/<image id>@snap`, Glance's RBD layout) or a volume snapshot, then grown to the
requested size; full copies for volume-from-volume; snapshots are protected at once so
they can be cloned. Deletion refuses, with `VolumeInUseError` or `VolumeHasClonesError`,
while a client holds the image open (a guest has it attached: its watchers) or clones
depend on it. Images get into RBD with `import_image` (a protected `snap` per image);
with an `image_dir`, a clone from a missing `images/<id>@snap` imports `<image_dir>/<id>`
first.

Every librados/librbd call blocks, so each step runs in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from corebus.config import default_home
from node_agent.drivers.errors import DriverError, InvalidStateError, NotFoundError
from node_agent.drivers.real_options import CephOptions
from node_agent.drivers.storage.base import VolumeInfo
from node_agent.drivers.storage.rbd_client import (
    GIB,
    RbdApi,
    RbdClient,
    VolumeHasClonesError,
    VolumeInUseError,
)
from schemas.messages.agent_storage import (
    CloneVolume,
    CreateVolume,
    RbdImage,
    ResizeVolume,
    SnapshotVolume,
)

__all__ = ["RbdStorage", "VolumeHasClonesError", "VolumeInUseError"]

IMAGE_POOL = "images"
IMAGE_SNAPSHOT = "snap"
CHUNK = 4 << 20  # bytes per write when importing an image (one RBD object)
_VOLUME = re.compile(r"^volume-([0-9a-f-]{36})$")
T = TypeVar("T")


class RbdStorage:
    def __init__(
        self,
        client: RbdClient,
        *,
        pools: tuple[str, ...] = ("volumes",),
        image_dir: Path | None = None,
    ) -> None:
        self.client = client
        self.pools = pools  # where list_volumes looks for `volume-<id>` images
        self.image_dir = image_dir

    @classmethod
    def from_options(cls, ceph: CephOptions, image_dir: Path | None = None) -> RbdStorage:
        """The driver of `skymesh agent --storage rbd`; images uploaded to the local image
        store ($SKYMESH_HOME/images/<id>) are imported on first clone."""
        client = RbdClient(ceph.conf, ceph.user, RbdApi.debian())
        directory = image_dir if image_dir is not None else default_home() / "images"
        return cls(client, pools=(ceph.pool,), image_dir=directory)

    async def create_volume(self, request: CreateVolume) -> VolumeInfo:
        target, size = request.target, request.size_gb * GIB
        state = await self._run(self.client.state, target.pool, target.image)
        if state is None:
            if request.source is None:
                await self._run(self.client.create, target.pool, target.image, size)
            else:
                await self._clone_from(request.source, target)
            state = await self._run(self.client.state, target.pool, target.image)
            assert state is not None
        if state.size < size:
            await self._run(self.client.resize, target.pool, target.image, size)
        elif state.size > size:
            raise InvalidStateError(
                f"{target.pool}/{target.image} exists with {state.size} bytes, "
                f"more than the {request.size_gb} GiB asked"
            )
        return _info(request.volume_id, target, max(state.size, size))

    async def clone_volume(self, request: CloneVolume) -> VolumeInfo:
        source, target = request.source, request.target
        if not await self._run(self.client.exists, target.pool, target.image):
            # copied under a temporary name and renamed: a retry never takes half a copy
            spec = (source.pool, source.image, source.snapshot)
            partial = f"{target.image}.part-{uuid.uuid4().hex[:8]}"
            await self._run(self.client.copy, spec, target.pool, partial)
            await self._run(self.client.rename, target.pool, partial, target.image)
        return await self.resize_volume(
            ResizeVolume(volume_id=request.volume_id, target=target, new_size_gb=request.size_gb)
        )

    async def delete_volume(self, volume_id: UUID, target: RbdImage) -> bool:
        return await self._run(self.client.remove, target.pool, target.image)

    async def resize_volume(self, request: ResizeVolume) -> VolumeInfo:
        target, size = request.target, request.new_size_gb * GIB
        state = await self._run(self.client.state, target.pool, target.image)
        if state is None:
            raise NotFoundError(f"no RBD image {target.pool}/{target.image}")
        if size < state.size:
            raise InvalidStateError("RBD images only grow")
        if size > state.size:
            await self._run(self.client.resize, target.pool, target.image, size)
        return _info(request.volume_id, target, size)

    async def snapshot_volume(self, request: SnapshotVolume) -> None:
        target = request.target
        assert target.snapshot is not None  # the message validates it
        await self._run(self.client.snapshot, target.pool, target.image, target.snapshot)

    async def delete_snapshot(self, target: RbdImage) -> bool:
        if target.snapshot is None:
            raise InvalidStateError("name the snapshot to delete")
        return await self._run(
            self.client.remove_snapshot, target.pool, target.image, target.snapshot
        )

    async def list_volumes(self) -> list[VolumeInfo]:
        found = []
        for pool in self.pools:
            for name in sorted(await self._run(self.client.names, pool)):
                match = _VOLUME.match(name)
                state = await self._run(self.client.state, pool, name) if match else None
                if match and state is not None:
                    image = RbdImage(pool=pool, image=name)
                    found.append(_info(UUID(match.group(1)), image, state.size))
        return found

    async def import_image(self, image_id: UUID, path: Path, *, pool: str = IMAGE_POOL) -> RbdImage:
        """Store an image file as `pool/<image id>` with a protected `snap`, Glance's RBD
        layout. Written under a temporary name and renamed, so a clone never sees half an
        image; importing again is a no-op."""
        name = str(image_id)
        snap = RbdImage(pool=pool, image=name, snapshot=IMAGE_SNAPSHOT)
        state = await self._run(self.client.state, pool, name)
        if state is not None and IMAGE_SNAPSHOT in state.snapshots:
            await self._run(self.client.snapshot, pool, name, IMAGE_SNAPSHOT)
            return snap
        if state is None:
            partial = f"{name}.part-{uuid.uuid4().hex[:8]}"
            size = (await asyncio.to_thread(path.stat)).st_size
            await self._run(self.client.create, pool, partial, size)
            try:
                with await asyncio.to_thread(path.open, "rb") as handle:
                    offset = 0
                    while chunk := await asyncio.to_thread(handle.read, CHUNK):
                        await self._run(self.client.write, pool, partial, chunk, offset)
                        offset += len(chunk)
                await self._run(self.client.rename, pool, partial, name)
            except BaseException:
                await self._run(self.client.remove, pool, partial)
                raise
        await self._run(self.client.snapshot, pool, name, IMAGE_SNAPSHOT)
        return snap

    async def delete_image(self, image_id: UUID, *, pool: str = IMAGE_POOL) -> bool:
        """Remove an imported image and its snapshot; refuses while volumes are clones
        of it (VolumeHasClonesError). False when it is not there."""
        name = str(image_id)
        await self._run(self.client.remove_snapshot, pool, name, IMAGE_SNAPSHOT)
        return await self._run(self.client.remove, pool, name)

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)

    async def _clone_from(self, source: RbdImage, target: RbdImage) -> None:
        assert source.snapshot is not None  # CreateVolume validates it
        if (
            source.pool == IMAGE_POOL
            and self.image_dir is not None
            and not await self._run(self.client.exists, source.pool, source.image)
        ):
            path = self.image_dir / source.image
            if await asyncio.to_thread(path.is_file):
                await self.import_image(UUID(source.image), path, pool=source.pool)
        spec = (source.pool, source.image, source.snapshot)
        await self._run(self.client.clone, spec, target.pool, target.image)

    async def _run(self, call: Callable[..., T], *args: object) -> T:
        """A blocking client call in a thread; binding errors become DriverErrors."""
        api = self.client.api
        try:
            return await asyncio.to_thread(call, *args)
        except DriverError:
            raise
        except api.rbd.ImageNotFound as exc:
            raise NotFoundError(f"RBD image not found: {exc}") from exc
        except (api.rbd.Error, api.rados.Error) as exc:
            raise DriverError(f"Ceph: {exc}") from exc


def _info(volume_id: UUID, target: RbdImage, size: int) -> VolumeInfo:
    return VolumeInfo(
        volume_id=volume_id, pool=target.pool, image=target.image, size_gb=-(-size // GIB)
    )
