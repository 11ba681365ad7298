"""Real QEMU (TCG) guests through libvirt on qemu:///system: the busybox guest boots from the
project's kernel + initramfs, reads the disks and the config drive it is given, and reports
what it saw on its serial console."""

from __future__ import annotations

import asyncio
import time
import uuid

import libvirt
import pytest

from tests.integration.compute.conftest import Guests, tagged_domains, virsh_names
from tests.integration.compute.guest import (
    Disk,
    make_base_image,
    make_config_drive,
    make_overlay,
    marker_values,
    wait_for_marker_async,
)

# async on the session loop: libvirtaio (registered by the driver tests of this process)
# needs the loop running to answer libvirtd's keepalives while a test waits
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

BOOT_TIMEOUT = 90.0  # seconds from start to the ready marker (12-35 s seen on 2 busy cores)


async def test_guest_boots_from_a_qcow2_overlay_and_reports_ready(
    guests: Guests, libvirt_conn: libvirt.virConnect
) -> None:
    marker = f"base-image-{uuid.uuid4().hex}"
    base = make_base_image(guests.tmp / "base.qcow2", {"skymesh-marker": marker + "\n"})
    overlay = make_overlay(base, guests.tmp / "root.qcow2")
    spec = guests.spec(
        disks=(Disk(overlay, "vda", serial="root"),),
        user_nic=True,
        cmdline_extra=("quiet", "skymesh.mount=root:/mnt/root"),
    )

    dom = guests.start(spec)
    assert dom.isActive()
    found = await guests.wait_ready(spec, BOOT_TIMEOUT)

    # The guest read the marker written into the base image through its overlay...
    assert marker_values(found, "SKYMESH-DISK-MARKER") == [f"root {marker}"]
    # ...and got an address from the user-mode network's DHCP server.
    assert marker_values(found, "SKYMESH-IP") == ["10.0.2.15 eth0"]
    assert not [m for m in found if "FAILED" in m], found

    dom.destroy()
    dom.undefine()
    assert spec.name not in virsh_names()
    assert tagged_domains(libvirt_conn, guests.tag) == []


async def test_guest_reads_its_hostname_from_a_config_drive(guests: Guests) -> None:
    hostname = f"cfg-{uuid.uuid4().hex[:10]}"
    drive = make_config_drive(
        guests.tmp / "config.iso", {"uuid": str(uuid.uuid4()), "hostname": hostname}
    )
    spec = guests.spec(
        disks=(Disk(drive, "vda", serial="config-drive", fmt="raw", readonly=True),),
        cmdline_extra=("quiet",),
    )

    dom = guests.start(spec)
    found = await guests.wait_ready(spec, BOOT_TIMEOUT)

    assert marker_values(found, "SKYMESH-HOSTNAME") == [hostname]
    assert marker_values(found, "SKYMESH-CONFIG-DRIVE") == ["/dev/vda"]
    assert "SKYMESH-NET-NONE" in found  # no NIC was given

    dom.destroy()
    dom.undefine()
    assert spec.name not in virsh_names()


async def test_guest_powers_off_on_acpi_shutdown(guests: Guests) -> None:
    spec = guests.spec(cmdline_extra=("quiet",))
    dom = guests.start(spec)
    await guests.wait_ready(spec, BOOT_TIMEOUT)

    dom.shutdown()  # the ACPI power button; the guest's acpid powers it off
    deadline = time.monotonic() + 30
    while True:
        if not dom.isActive() or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)

    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    await wait_for_marker_async(spec.console_log, "SKYMESH-POWER-OFF", 5)
    dom.undefine()
    assert spec.name not in virsh_names()
