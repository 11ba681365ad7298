"""RBD disks of real TCG guests on a private Ceph cluster with cephx: a guest boots from an
RBD volume that holds a marker (its root disk really is that RBD image), a second RBD
volume is attached live and the guest reads the marker written on it beforehand, then it
is detached; the libvirt `ceph` secret the driver defined for the user's key is gone once
no disk needs it."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import libvirt
import pytest
import pytest_asyncio

from node_agent.drivers.hypervisor.qemu import QemuHypervisor
from schemas.claims import Claim
from schemas.compute import Image
from schemas.messages.agent_compute import Spawn, VolumeConnection
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


def rbd_with_marker(cluster: CephCluster, tmp: Path, name: str, marker: str) -> None:
    """An RBD image holding an ext4 file system with `skymesh-marker`."""
    staging = tmp / f"{name}.d"
    staging.mkdir()
    (staging / "skymesh-marker").write_text(marker + "\n")
    raw = tmp / f"{name}.raw"
    run("truncate", "-s", "16M", raw)
    run("mkfs.ext4", "-q", "-F", "-d", staging, raw)
    run("rbd", "-c", cluster.conf, "--id", "admin", "import", raw, f"{cluster.pool}/{name}")
    raw.unlink()


def connection(cluster: CephCluster, name: str, secret: uuid.UUID, boot: bool) -> VolumeConnection:
    assert cluster.user is not None
    return VolumeConnection(
        volume_id=uuid.uuid4(),
        attachment_id=uuid.uuid4(),
        boot_index=0 if boot else None,
        rbd=RbdConnection(
            pool=cluster.pool,
            image=name,
            monitors=(cluster.monitor,),
            user=cluster.user,
            secret_uuid=secret,
        ),
    )


@pytest_asyncio.fixture(loop_scope="session")
async def driver(
    libvirt_uri: str, ceph_cluster_cephx: CephCluster, tmp_path: Path
) -> AsyncIterator[QemuHypervisor]:
    host = f"qr-{uuid.uuid4().hex[:6]}"
    made = QemuHypervisor(host, tmp_path / host, libvirt_uri, ceph_conf=ceph_cluster_cephx.conf)
    await made.start(Events())
    try:
        yield made
    finally:
        await made.close()
        remove_domains_of(libvirt_uri, {host})


async def test_boot_from_an_rbd_volume_and_hot_plug_another(
    driver: QemuHypervisor,
    ceph_cluster_cephx: CephCluster,
    guest_artefacts: GuestArtefacts,
    tmp_path: Path,
) -> None:
    cluster, suffix = ceph_cluster_cephx, uuid.uuid4().hex[:8]
    root_marker, data_marker = f"rbd-root-{suffix}", f"rbd-data-{suffix}"
    root_name, data_name = f"root-{suffix}", f"data-{suffix}"
    await asyncio.to_thread(rbd_with_marker, cluster, tmp_path, root_name, root_marker)
    await asyncio.to_thread(rbd_with_marker, cluster, tmp_path, data_name, data_marker)
    secret = uuid.uuid4()
    boot = connection(cluster, root_name, secret, boot=True)
    data = connection(cluster, data_name, secret, boot=False)
    chosen = flavor()
    image = Image(
        id=uuid.uuid4(),
        name="kernel-only",
        status="active",
        properties={
            "skymesh_kernel": str(guest_artefacts.kernel),
            "skymesh_initrd": str(guest_artefacts.initrd),
        },
    )
    request = Spawn(
        instance_id=uuid.uuid4(),
        name="rbd-guest",
        flavor=chosen,
        claim=Claim(vcpus=1, memory_mb=chosen.memory_mb),
        image=image,
        volumes=(boot,),
    )
    try:
        info = await driver.spawn(request)
        assert [v.device for v in info.volumes] == ["/dev/vda"]
        instance = request.instance_id
        found = await wait_for_console(
            lambda: driver.console_output(instance), lambda m: READY in m, what=READY
        )
        assert values(found, "SKYMESH-DISK-MARKER") == [f"{str(boot.volume_id)[:20]} {root_marker}"]

        assert await driver.attach_volume(instance, data) == "/dev/vdb"
        found = await wait_for_console(
            lambda: driver.console_output(instance),
            lambda m: len(values(m, "SKYMESH-DISK-MARKER")) == 2,
            timeout=60,
            what="the hot-plugged disk's marker",
        )
        assert (
            values(found, "SKYMESH-DISK-MARKER")[1] == f"{str(data.volume_id)[:20]} {data_marker}"
        )
        assert values(found, "SKYMESH-HOTPLUG-DISK") == [f"{str(data.volume_id)[:20]} /dev/vdb"]
        assert await driver.attach_volume(instance, data) == "/dev/vdb"  # idempotent
        listed = (await driver.list_domains())[0]
        assert {v.volume_id for v in listed.volumes} == {boot.volume_id, data.volume_id}

        assert await driver.detach_volume(instance, data.volume_id) is True
        await wait_for_console(
            lambda: driver.console_output(instance),
            lambda m: "SKYMESH-UNPLUG-DISK /dev/vdb" in m,
            timeout=30,
            what="SKYMESH-UNPLUG-DISK",
        )
        assert await driver.detach_volume(instance, data.volume_id) is False
        assert driver.connection.secretLookupByUUIDString(str(secret)) is not None  # root uses it

        assert await driver.destroy(instance) is True
        with pytest.raises(libvirt.libvirtError):
            driver.connection.secretLookupByUUIDString(str(secret))
    finally:
        remove_domains_of(driver.uri, {driver.host})
        with contextlib.suppress(libvirt.libvirtError):  # left only when the test failed
            driver.connection.secretLookupByUUIDString(str(secret)).undefine()
        for name in (root_name, data_name):
            await asyncio.to_thread(
                subprocess.run,
                ["rbd", "-c", str(cluster.conf), "--id", "admin", "rm", f"{cluster.pool}/{name}"],
                capture_output=True,
                check=False,
            )
