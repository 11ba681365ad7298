"""Real TCG guests on RBD disks: the RBD storage driver and the QEMU hypervisor driver
together, on a private Ceph cluster and qemu:///system.

- an image (ext4 holding `skymesh-marker`) is imported into RBD with its protected `snap`;
  the boot volume is a copy-on-write clone of it; the guest boots with that clone as its
  root disk and prints the marker it read from it, so the root disk really is the clone;
  while QEMU holds the clone open, deleting it is refused (QEMU is its watcher), and the
  image cannot go while the clone depends on it;
- a second volume, with an ext4 holding another marker written into it beforehand, is
  attached live: the guest sees the disk appear and prints that marker; after the live
  detach the guest sees it go, and the volume can be deleted.
The tests run in order on the module's guest (one boot for both, on 2 busy cores).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
import pytest_asyncio

from node_agent.drivers.hypervisor.qemu import QemuHypervisor
from node_agent.drivers.real_options import CephOptions
from node_agent.drivers.storage.rbd import RbdStorage, VolumeHasClonesError, VolumeInUseError
from node_agent.drivers.storage.rbd_client import GIB
from schemas.claims import Claim
from schemas.compute import Image
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.messages.agent_storage import CreateVolume, RbdImage
from schemas.storage import RbdConnection
from tests.integration.ceph_stack import CephCluster
from tests.integration.compute.agent_guests import (
    READY,
    Events,
    flavor,
    remove_domains_of,
    values,
    wait_for_console,
)
from tests.integration.compute.guest import GuestArtefacts, run

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def ext4_with_marker(path: Path, marker: str, size_mib: int = 16) -> Path:
    """A raw ext4 filesystem image holding `skymesh-marker` (the guest's init reads it)."""
    staging = path.parent / f"{path.name}.d"
    staging.mkdir(parents=True)
    (staging / "skymesh-marker").write_text(marker + "\n")
    run("truncate", "-s", f"{size_mib}M", path)
    run("mkfs.ext4", "-q", "-F", "-L", "skymesh-rbd", "-d", staging, path)
    return path


def volume(volume_id: UUID) -> RbdImage:
    return RbdImage(pool="volumes", image=f"volume-{volume_id}")


def serial(volume_id: UUID) -> str:
    """What the guest sees of a disk's serial (virtio-blk keeps 20 characters)."""
    return str(volume_id)[:20]


@dataclass
class Stage:
    storage: RbdStorage
    hypervisor: QemuHypervisor
    cluster: CephCluster
    image_id: UUID
    boot_volume: UUID
    instance_id: UUID
    root_marker: str
    tmp: Path

    def connection(self, volume_id: UUID, boot_index: int | None = None) -> VolumeConnection:
        target = volume(volume_id)
        return VolumeConnection(
            volume_id=volume_id,
            attachment_id=uuid.uuid4(),
            boot_index=boot_index,
            rbd=RbdConnection(
                pool=target.pool,
                image=target.image,
                monitors=(self.cluster.monitor,),
                auth_enabled=False,
            ),
        )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stage(
    ceph_cluster: CephCluster,
    libvirt_uri: str,
    guest_artefacts: GuestArtefacts,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stage]:
    tmp = tmp_path_factory.mktemp("rbd-guest")
    host = f"rbd-{uuid.uuid4().hex[:6]}"
    storage = RbdStorage.from_options(CephOptions(conf=ceph_cluster.conf, pool="volumes"))
    hypervisor = QemuHypervisor(host, tmp / "agent", libvirt_uri, ceph_conf=ceph_cluster.conf)
    await hypervisor.start(Events())
    stage = Stage(
        storage=storage,
        hypervisor=hypervisor,
        cluster=ceph_cluster,
        image_id=uuid.uuid4(),
        boot_volume=uuid.uuid4(),
        instance_id=uuid.uuid4(),
        root_marker=f"rbd-root-{uuid.uuid4().hex}",
        tmp=tmp,
    )
    try:
        yield stage
    finally:
        await hypervisor.close()
        remove_domains_of(libvirt_uri, {host})
        for vid in (stage.boot_volume,):
            await storage.delete_volume(vid, volume(vid))
        await storage.delete_image(stage.image_id)
        await storage.close()
    assert remove_domains_of(libvirt_uri, {host}) == []


async def test_guest_boots_from_a_cow_clone_of_an_rbd_image(
    stage: Stage,
    guest_artefacts: GuestArtefacts,
) -> None:
    raw = ext4_with_marker(stage.tmp / "image.raw", stage.root_marker)
    source = await stage.storage.import_image(stage.image_id, raw)
    await stage.storage.create_volume(
        CreateVolume(
            volume_id=stage.boot_volume, target=volume(stage.boot_volume), size_gb=1, source=source
        )
    )
    image = Image(
        id=stage.image_id,
        name="busybox-rbd",
        status="active",
        disk_format="raw",
        properties={
            "skymesh_kernel": str(guest_artefacts.kernel),
            "skymesh_initrd": str(guest_artefacts.initrd),
        },
    )
    chosen = flavor()
    request = Spawn(
        instance_id=stage.instance_id,
        name="rbd-guest",
        flavor=chosen,
        claim=Claim(vcpus=chosen.vcpus, memory_mb=chosen.memory_mb, disk_gb=0),
        image=image,
        volumes=(stage.connection(stage.boot_volume, boot_index=0),),
    )
    hypervisor = stage.hypervisor
    await hypervisor.spawn(request)
    found = await wait_for_console(
        lambda: hypervisor.console_output(stage.instance_id),
        lambda m: READY in m,
        what=READY,
    )
    assert values(found, "SKYMESH-DISK-MARKER") == [
        f"{serial(stage.boot_volume)} {stage.root_marker}"
    ]
    assert not [m for m in found if "FAILED" in m], found

    with pytest.raises(VolumeInUseError, match="attached"):
        await stage.storage.delete_volume(stage.boot_volume, volume(stage.boot_volume))
    with pytest.raises(VolumeHasClonesError, match=f"volume-{stage.boot_volume}"):
        await stage.storage.delete_image(stage.image_id)


async def test_rbd_volume_attached_live_shows_its_bytes_then_detaches(stage: Stage) -> None:
    vid, marker = uuid.uuid4(), f"rbd-data-{uuid.uuid4().hex}"
    data = ext4_with_marker(stage.tmp / f"data-{vid}.raw", marker).read_bytes()
    await stage.storage.create_volume(CreateVolume(volume_id=vid, target=volume(vid), size_gb=1))
    try:
        await _write(stage, volume(vid), data)
        hypervisor = stage.hypervisor
        device = await hypervisor.attach_volume(stage.instance_id, stage.connection(vid))
        found = await wait_for_console(
            lambda: hypervisor.console_output(stage.instance_id),
            lambda m: f"{serial(vid)} {marker}" in values(m, "SKYMESH-DISK-MARKER"),
            what=f"SKYMESH-DISK-MARKER {serial(vid)} {marker}",
        )
        plugged = values(found, "SKYMESH-HOTPLUG-DISK")
        assert [p.split()[0] for p in plugged] == [serial(vid)]
        guest_dev = plugged[0].split()[1]
        assert device.removeprefix("/dev/") == guest_dev.removeprefix("/dev/")
        with pytest.raises(VolumeInUseError):
            await stage.storage.delete_volume(vid, volume(vid))

        assert await hypervisor.detach_volume(stage.instance_id, vid) is True
        await wait_for_console(
            lambda: hypervisor.console_output(stage.instance_id),
            lambda m: guest_dev in values(m, "SKYMESH-UNPLUG-DISK"),
            what=f"SKYMESH-UNPLUG-DISK {guest_dev}",
        )
    finally:
        deleted = await _delete_when_released(stage, vid)
    assert deleted


async def _write(stage: Stage, target: RbdImage, data: bytes) -> None:
    await asyncio.to_thread(stage.storage.client.write, target.pool, target.image, data, 0)
    assert len(data) < GIB


async def _delete_when_released(stage: Stage, vid: UUID) -> bool:
    """QEMU closes the image a moment after the detach completes."""
    for _ in range(50):
        try:
            return await stage.storage.delete_volume(vid, volume(vid))
        except VolumeInUseError:
            await asyncio.sleep(0.2)
    return await stage.storage.delete_volume(vid, volume(vid))
