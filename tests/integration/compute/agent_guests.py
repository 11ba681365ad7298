"""Real guests spawned through the QEMU hypervisor driver, as a node agent does: an image
with a marker on its root disk (direct kernel boot through the image's properties), Spawn
messages, markers read back through `console_output`, and a cleanup that removes every
domain of the test's hosts, whatever happened."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import libvirt

from node_agent.drivers.hypervisor.base import DomainEvent
from node_agent.drivers.hypervisor.domain_xml import NS, parse_owner
from schemas.claims import Claim
from schemas.compute import Flavor, Image, ImageLocation, ImageLocationKind
from schemas.messages.agent_compute import ConfigDriveData, Spawn
from tests.integration.compute.guest import GuestArtefacts, make_base_image

BOOT_TIMEOUT = 120.0  # seconds to the ready marker (12-35 s seen on 2 busy cores)
READY = "SKYMESH-GUEST-READY"


def flavor(vcpus: int = 1, memory_mb: int = 256, disk_gb: int = 0) -> Flavor:
    return Flavor(
        id=uuid.uuid4(),
        name=f"t{vcpus}.{memory_mb}.{disk_gb}",
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=disk_gb,
    )


def marked_image(directory: Path, artefacts: GuestArtefacts, marker: str) -> tuple[Image, Path]:
    """A qcow2 image whose ext4 root holds `skymesh-marker`, booting the test guest's
    kernel and initramfs (the image properties the QEMU driver reads)."""
    path = make_base_image(directory / "image.qcow2", {"skymesh-marker": marker + "\n"})
    image = Image(
        id=uuid.uuid4(),
        name="busybox-marked",
        status="active",
        disk_format="qcow2",
        properties={
            "skymesh_kernel": str(artefacts.kernel),
            "skymesh_initrd": str(artefacts.initrd),
        },
    )
    return image, path


def spawn_request(
    image: Image,
    path: Path,
    *,
    the_flavor: Flavor | None = None,
    config_drive: ConfigDriveData | None = None,
    name: str = "guest",
) -> Spawn:
    chosen = the_flavor or flavor()
    return Spawn(
        instance_id=uuid.uuid4(),
        name=name,
        flavor=chosen,
        claim=Claim(vcpus=chosen.vcpus, memory_mb=chosen.memory_mb, disk_gb=chosen.disk_gb),
        image=image,
        image_location=ImageLocation(kind=ImageLocationKind.FILE, path=str(path)),
        config_drive=config_drive,
    )


def markers(text: str) -> list[str]:
    lines = text.replace("\r", "").splitlines()
    return [line[line.index("SKYMESH-") :].strip() for line in lines if "SKYMESH-" in line]


def values(found: list[str], marker: str) -> list[str]:
    return [line[len(marker) :].strip() for line in found if line.startswith(marker + " ")]


async def wait_for_console(
    read: Callable[[], Awaitable[str]],
    check: Callable[[list[str]], bool],
    timeout: float = BOOT_TIMEOUT,
    what: str = "",
) -> list[str]:
    """Poll the console (through the driver) until `check(markers)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        found = markers(await read())
        if check(found):
            return found
        if time.monotonic() > deadline:
            tail = (await read())[-3000:]
            raise AssertionError(f"console never showed {what!r} in {timeout:.0f} s:\n{tail}")
        await asyncio.sleep(0.3)


class Events:
    """A DomainEventSink that keeps everything."""

    def __init__(self) -> None:
        self.seen: list[DomainEvent] = []

    def __call__(self, event: DomainEvent) -> None:
        self.seen.append(event)

    async def wait_for(self, check: Callable[[DomainEvent], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(check(e) for e in self.seen):
            assert time.monotonic() < deadline, f"events so far: {self.seen}"
            await asyncio.sleep(0.05)


def remove_domains_of(uri: str, hosts: set[str]) -> list[str]:
    """Destroy and undefine every domain owned by one of `hosts`; their names."""
    removed = []
    conn = libvirt.open(uri)
    try:
        for dom in conn.listAllDomains():
            try:
                owner = parse_owner(dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS))
            except libvirt.libvirtError:
                continue
            if owner.host not in hosts:
                continue
            with contextlib.suppress(libvirt.libvirtError):
                if dom.isActive():
                    dom.destroy()
            with contextlib.suppress(libvirt.libvirtError):
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
            removed.append(dom.name())
    finally:
        conn.close()
    return removed
