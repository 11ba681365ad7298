"""The RBD storage driver on a real single-node Ceph cluster (scripts/stack/ceph.sh): volumes
are real RBD images, boot volumes are copy-on-write clones of an imported image's protected
snapshot, and deletion refuses while a client holds the image open or clones depend on it.
One cluster per session (auth none) and one with cephx; every test names its images
uniquely and removes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from node_agent.drivers.errors import InvalidStateError
from node_agent.drivers.real_options import CephOptions
from node_agent.drivers.storage.rbd import RbdStorage, VolumeHasClonesError, VolumeInUseError
from node_agent.drivers.storage.rbd_client import GIB, RbdApi
from schemas.messages.agent_storage import (
    CloneVolume,
    CreateVolume,
    RbdImage,
    ResizeVolume,
    SnapshotVolume,
)
from tests.integration.ceph_stack import CephCluster

pytestmark = pytest.mark.integration


@pytest.fixture
async def storage(ceph_cluster: CephCluster) -> AsyncIterator[RbdStorage]:
    ceph = CephOptions(conf=ceph_cluster.conf, pool="volumes", user=ceph_cluster.user)
    driver = RbdStorage.from_options(ceph)
    yield driver
    await driver.close()


@pytest.fixture
def rbd_admin(ceph_cluster: CephCluster) -> Iterator[Any]:
    """A second, independent client of the cluster (what a guest's QEMU would be)."""
    api = RbdApi.debian()
    cluster = api.rados.Rados(conffile=str(ceph_cluster.conf), rados_id=ceph_cluster.rados_id)
    cluster.connect(timeout=10)
    try:
        yield cluster
    finally:
        cluster.shutdown()


def volume(volume_id: UUID) -> RbdImage:
    return RbdImage(pool="volumes", image=f"volume-{volume_id}")


def rbd_ls(cluster: Any, pool: str) -> list[str]:
    ioctx = cluster.open_ioctx(pool)
    try:
        return list(RbdApi.debian().rbd.RBD().list(ioctx))
    finally:
        ioctx.close()


def rbd_write(cluster: Any, target: RbdImage, data: bytes, offset: int) -> None:
    ioctx = cluster.open_ioctx(target.pool)
    try:
        with RbdApi.debian().rbd.Image(ioctx, target.image) as image:
            image.write(data, offset)
    finally:
        ioctx.close()


def rbd_read(cluster: Any, target: RbdImage, offset: int, length: int) -> bytes:
    ioctx = cluster.open_ioctx(target.pool)
    try:
        with RbdApi.debian().rbd.Image(ioctx, target.image, read_only=True) as image:
            data: bytes = image.read(offset, length)
            return data
    finally:
        ioctx.close()


async def test_volume_create_extend_snapshot_clone_delete(
    storage: RbdStorage, rbd_admin: Any
) -> None:
    vid, cid, copy_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    info = await storage.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1))
    assert info.size_gb == 1 and f"volume-{vid}" in rbd_ls(rbd_admin, "volumes")
    await storage.resize_volume(ResizeVolume(volume_id=vid, target=volume(vid), new_size_gb=2))
    rbd_write(rbd_admin, volume(vid), b"VOLUME-DATA", 3 * GIB // 2)
    snap = RbdImage(pool="volumes", image=f"volume-{vid}", snapshot=f"snapshot-{cid}")
    await storage.snapshot_volume(SnapshotVolume(volume_id=vid, snapshot_id=cid, target=snap))
    await storage.create_volume(
        CreateVolume(volume_id=cid, target=volume(cid), size_gb=3, source=snap)
    )
    await storage.clone_volume(
        CloneVolume(
            volume_id=copy_id,
            source_volume_id=vid,
            source=volume(vid),
            target=volume(copy_id),
            size_gb=2,
        )
    )
    for target in (volume(cid), volume(copy_id)):
        assert rbd_read(rbd_admin, target, 3 * GIB // 2, 11) == b"VOLUME-DATA"
    listed = {v.volume_id: v.size_gb for v in await storage.list_volumes()}
    assert {vid: 2, cid: 3, copy_id: 2}.items() <= listed.items()

    with pytest.raises(VolumeHasClonesError, match=f"volume-{cid}"):
        await storage.delete_volume(vid, volume(vid))
    with pytest.raises(VolumeHasClonesError):
        await storage.delete_snapshot(snap)
    assert await storage.delete_volume(cid, volume(cid)) is True
    with pytest.raises(InvalidStateError, match="has snapshots"):
        await storage.delete_volume(vid, volume(vid))
    assert await storage.delete_snapshot(snap) is True
    for v in (vid, copy_id):
        assert await storage.delete_volume(v, volume(v)) is True
        assert await storage.delete_volume(v, volume(v)) is False
    names = rbd_ls(rbd_admin, "volumes")
    assert not {f"volume-{v}" for v in (vid, cid, copy_id)} & set(names)


async def test_delete_refuses_while_another_client_holds_the_volume(
    storage: RbdStorage, rbd_admin: Any
) -> None:
    vid = uuid.uuid4()
    await storage.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1))
    ioctx = rbd_admin.open_ioctx("volumes")
    holder = RbdApi.debian().rbd.Image(ioctx, f"volume-{vid}")  # a watcher, as QEMU is
    try:
        with pytest.raises(VolumeInUseError, match="attached"):
            await storage.delete_volume(vid, volume(vid))
        assert f"volume-{vid}" in rbd_ls(rbd_admin, "volumes")
    finally:
        holder.close()
        ioctx.close()
    assert await storage.delete_volume(vid, volume(vid)) is True


async def test_imported_image_has_a_protected_snap_and_clones_carry_its_content(
    storage: RbdStorage, rbd_admin: Any, tmp_path: Path
) -> None:
    image_id, vid = uuid.uuid4(), uuid.uuid4()
    marker = f"SKYMESH-IMAGE-{image_id.hex}".encode()
    image_file = tmp_path / "disk.raw"
    image_file.write_bytes(marker + bytes(9 << 20))  # more than two 4 MiB chunks
    source = await storage.import_image(image_id, image_file)
    ioctx = rbd_admin.open_ioctx("images")
    try:
        with RbdApi.debian().rbd.Image(ioctx, str(image_id), read_only=True) as image:
            assert image.is_protected_snap("snap") and image.size() == len(marker) + (9 << 20)
        assert rbd_ls(rbd_admin, "images").count(str(image_id)) == 1  # no temporary left
        await storage.create_volume(
            CreateVolume(volume_id=vid, target=volume(vid), size_gb=1, source=source)
        )
        with RbdApi.debian().rbd.Image(rbd_admin.open_ioctx("volumes"), f"volume-{vid}") as clone:
            assert tuple(clone.parent_info()) == ("images", str(image_id), "snap")
            assert clone.size() == GIB and clone.read(0, len(marker)) == marker
        assert await storage.delete_volume(vid, volume(vid)) is True
    finally:
        assert await storage.delete_image(image_id) is True
        ioctx.close()
    assert str(image_id) not in rbd_ls(rbd_admin, "images")


async def test_cephx_user_manages_volumes(ceph_cluster_cephx: CephCluster) -> None:
    assert ceph_cluster_cephx.user == "skymesh" and ceph_cluster_cephx.secret
    ceph = CephOptions(conf=ceph_cluster_cephx.conf, pool="volumes", user="skymesh")
    driver = RbdStorage.from_options(ceph)
    vid = uuid.uuid4()
    try:
        await driver.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1))
        assert vid in {v.volume_id for v in await driver.list_volumes()}
        assert await driver.delete_volume(vid, volume(vid)) is True
    finally:
        await driver.close()
