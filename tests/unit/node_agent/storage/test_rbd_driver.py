"""The RBD storage driver against an in-memory Ceph (fake_rbd): volumes, clones of image
snapshots, image import, and the refusals that protect attached and cloned volumes."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest

from node_agent.drivers.errors import InvalidStateError, NotFoundError, TransientError
from node_agent.drivers.storage.rbd import (
    RbdStorage,
    VolumeHasClonesError,
    VolumeInUseError,
)
from node_agent.drivers.storage.rbd_client import GIB, RbdClient
from schemas.messages.agent_storage import (
    CloneVolume,
    CreateVolume,
    RbdImage,
    ResizeVolume,
    SnapshotVolume,
)
from tests.unit.node_agent.storage.fake_rbd import FakeCeph


@pytest.fixture
def ceph() -> FakeCeph:
    return FakeCeph()


def driver(ceph: FakeCeph, image_dir: Path | None = None) -> RbdStorage:
    return RbdStorage(RbdClient(None, None, ceph.api), image_dir=image_dir)


def volume(volume_id: UUID) -> RbdImage:
    return RbdImage(pool="volumes", image=f"volume-{volume_id}")


async def test_create_is_idempotent_grows_and_lists(ceph: FakeCeph) -> None:
    rbd, vid = driver(ceph), uuid4()
    request = CreateVolume(volume_id=vid, target=volume(vid), size_gb=1)
    info = await rbd.create_volume(request)
    assert (info.pool, info.image, info.size_gb) == ("volumes", f"volume-{vid}", 1)
    assert await rbd.create_volume(request) == info
    assert ceph.pools["volumes"][f"volume-{vid}"].size == GIB
    ceph.pools["volumes"]["not-a-volume"] = ceph.pools["volumes"][f"volume-{vid}"]
    assert await rbd.list_volumes() == [info]
    grown = await rbd.resize_volume(ResizeVolume(volume_id=vid, target=volume(vid), new_size_gb=2))
    assert grown.size_gb == 2 and ceph.pools["volumes"][f"volume-{vid}"].size == 2 * GIB
    with pytest.raises(InvalidStateError, match="only grow"):
        await rbd.resize_volume(ResizeVolume(volume_id=vid, target=volume(vid), new_size_gb=1))
    with pytest.raises(InvalidStateError, match="more than"):
        await rbd.create_volume(request)


async def test_boot_volume_is_a_cow_clone_of_the_imported_image(
    ceph: FakeCeph, tmp_path: Path
) -> None:
    rbd, image_id, vid = driver(ceph), uuid4(), uuid4()
    image_file = tmp_path / "disk.raw"
    image_file.write_bytes(b"SKYMESH-ROOT-MARKER" + bytes(5000))
    snap = await rbd.import_image(image_id, image_file)
    assert snap == RbdImage(pool="images", image=str(image_id), snapshot="snap")
    stored = ceph.pools["images"][str(image_id)]
    assert stored.snaps["snap"].protected and list(ceph.pools["images"]) == [str(image_id)]
    assert await rbd.import_image(image_id, image_file) == snap  # again: nothing new
    await rbd.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1, source=snap))
    clone = ceph.pools["volumes"][f"volume-{vid}"]
    assert clone.parent == ("images", str(image_id), "snap")
    assert clone.size == GIB and bytes(clone.data[:19]) == b"SKYMESH-ROOT-MARKER"


async def test_a_missing_image_is_imported_from_the_image_dir_on_first_clone(
    ceph: FakeCeph, tmp_path: Path
) -> None:
    image_id, vid = uuid4(), uuid4()
    (tmp_path / str(image_id)).write_bytes(b"uploaded through the image API")
    rbd = driver(ceph, image_dir=tmp_path)
    source = RbdImage(pool="images", image=str(image_id), snapshot="snap")
    await rbd.create_volume(
        CreateVolume(volume_id=vid, target=volume(vid), size_gb=1, source=source)
    )
    assert ceph.pools["images"][str(image_id)].snaps["snap"].protected
    with pytest.raises(NotFoundError):
        other = RbdImage(pool="images", image=str(uuid4()), snapshot="snap")
        await rbd.create_volume(
            CreateVolume(volume_id=uuid4(), target=volume(uuid4()), size_gb=1, source=other)
        )


async def test_delete_refuses_while_attached_then_succeeds(ceph: FakeCeph) -> None:
    rbd, vid = driver(ceph), uuid4()
    await rbd.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1))
    guest = ceph.api.rbd.Image(
        ceph.api.rados.Rados("", "admin").open_ioctx("volumes"), f"volume-{vid}"
    )
    with pytest.raises(VolumeInUseError, match="attached"):
        await rbd.delete_volume(vid, volume(vid))
    guest.close()
    assert await rbd.delete_volume(vid, volume(vid)) is True
    assert await rbd.delete_volume(vid, volume(vid)) is False
    assert ceph.pools["volumes"] == {}


async def test_delete_refuses_while_clones_depend_on_a_snapshot(ceph: FakeCeph) -> None:
    rbd, vid, cid = driver(ceph), uuid4(), uuid4()
    await rbd.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1))
    snap = RbdImage(pool="volumes", image=f"volume-{vid}", snapshot="snapshot-1")
    request = SnapshotVolume(volume_id=vid, snapshot_id=uuid4(), target=snap)
    await rbd.snapshot_volume(request)
    await rbd.snapshot_volume(request)  # idempotent
    await rbd.create_volume(CreateVolume(volume_id=cid, target=volume(cid), size_gb=2, source=snap))
    with pytest.raises(VolumeHasClonesError, match=f"volumes/volume-{cid}"):
        await rbd.delete_volume(vid, volume(vid))
    with pytest.raises(VolumeHasClonesError):
        await rbd.delete_snapshot(snap)
    assert await rbd.delete_volume(cid, volume(cid)) is True
    with pytest.raises(InvalidStateError, match="has snapshots"):
        await rbd.delete_volume(vid, volume(vid))
    assert await rbd.delete_snapshot(snap) is True
    assert await rbd.delete_snapshot(snap) is False
    assert await rbd.delete_volume(vid, volume(vid)) is True


async def test_clone_volume_is_an_independent_full_copy(ceph: FakeCeph) -> None:
    rbd, src, dst = driver(ceph), uuid4(), uuid4()
    await rbd.create_volume(CreateVolume(volume_id=src, target=volume(src), size_gb=1))
    ceph.pools["volumes"][f"volume-{src}"].data[:] = b"DATA"
    copy = CloneVolume(
        volume_id=dst, source_volume_id=src, source=volume(src), target=volume(dst), size_gb=2
    )
    info = await rbd.clone_volume(copy)
    assert info.size_gb == 2 and ceph.pools["volumes"][f"volume-{dst}"].parent is None
    assert await rbd.delete_volume(src, volume(src)) is True
    assert bytes(ceph.pools["volumes"][f"volume-{dst}"].data[:4]) == b"DATA"
    assert list(ceph.pools["volumes"]) == [f"volume-{dst}"]  # no temporary copy left


async def test_missing_things_and_an_unreachable_cluster(ceph: FakeCeph) -> None:
    rbd, vid = driver(ceph), uuid4()
    with pytest.raises(NotFoundError):
        await rbd.resize_volume(ResizeVolume(volume_id=vid, target=volume(vid), new_size_gb=1))
    with pytest.raises(NotFoundError, match="pool"):
        await rbd.create_volume(
            CreateVolume(volume_id=vid, target=RbdImage(pool="nope", image="x"), size_gb=1)
        )
    ceph.reachable = False
    with pytest.raises(TransientError):
        await driver(ceph).list_volumes()
