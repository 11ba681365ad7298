"""UdevPci's claims on a scanned host, with the recording netlink layer."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from node_agent.drivers.errors import DriverError, InvalidStateError, NotFoundError
from node_agent.drivers.pci.base import PciAssignment
from node_agent.drivers.pci.netlink import RESET_MAC, RecordingVfNetlink
from node_agent.drivers.pci.spec import DeviceSpec, SpecEntry
from node_agent.drivers.pci.udev import UdevPci
from schemas.pci import PciDeviceStatus
from tests.unit.node_agent.pci.host import GPU, SATA, VF00, VF01, VF10, scanned

SPEC = DeviceSpec(
    device_spec=(
        SpecEntry(devname="enp1s0f0", physical_network="physnet1"),
        SpecEntry(address="0000:8*", physical_network="physnet2"),
    )
)


def driver(tmp_path: Path, netlink: RecordingVfNetlink) -> UdevPci:
    return UdevPci(tmp_path, SPEC, netlink, scanner=scanned)


async def test_claim_sets_vf_mac_and_vlan_and_release_resets(tmp_path: Path) -> None:
    netlink = RecordingVfNetlink()
    pci = driver(tmp_path, netlink)
    instance = uuid4()
    await pci.assign(
        instance,
        (PciAssignment(VF00, mac="fa:16:3e:00:00:01", vlan=100), PciAssignment(GPU)),
    )
    # VF00 is virtfn1 of enp1s0f0; the GPU has no PF, so no netlink call for it
    assert netlink.calls == [("enp1s0f0", 1, "fa:16:3e:00:00:01", 100)]
    devices = {d.address: d for d in await driver(tmp_path, RecordingVfNetlink()).discover()}
    assert devices[VF00].status is PciDeviceStatus.CLAIMED
    assert devices[VF00].instance_id == instance
    assert devices[GPU].status is PciDeviceStatus.CLAIMED
    assert devices[VF01].status is PciDeviceStatus.AVAILABLE

    # a new driver (an agent restart) still knows what to undo
    released = await driver(tmp_path, netlink).release(instance)
    assert sorted(released) == sorted([VF00, GPU])
    assert netlink.state("enp1s0f0", 1) == (RESET_MAC, 0)
    assert all(d.status is PciDeviceStatus.AVAILABLE for d in await pci.discover())
    assert await pci.release(instance) == ()


async def test_vf_without_mac_gets_no_netlink_call(tmp_path: Path) -> None:
    netlink = RecordingVfNetlink()
    await driver(tmp_path, netlink).assign(uuid4(), (PciAssignment(VF10),))
    assert netlink.calls == []


async def test_a_device_held_by_another_instance_is_refused(tmp_path: Path) -> None:
    netlink = RecordingVfNetlink()
    pci = driver(tmp_path, netlink)
    first, second = uuid4(), uuid4()
    await pci.assign(first, (PciAssignment(VF01, mac="fa:16:3e:00:00:02"),))
    await pci.assign(first, (PciAssignment(VF01, mac="fa:16:3e:00:00:02"),))  # idempotent
    with pytest.raises(InvalidStateError, match="held by"):
        await pci.assign(second, (PciAssignment(VF01),))
    assert {d.address: d.instance_id for d in await pci.discover()}[VF01] == first


async def test_devices_outside_the_spec_are_refused(tmp_path: Path) -> None:
    pci = driver(tmp_path, RecordingVfNetlink())
    with pytest.raises(NotFoundError):
        await pci.assign(uuid4(), (PciAssignment(SATA),))
    with pytest.raises(NotFoundError):
        await pci.assign(uuid4(), (PciAssignment("0000:99:00.0"),))


async def test_a_failed_mac_set_rolls_back_the_ones_done(tmp_path: Path) -> None:
    netlink = RecordingVfNetlink(fail_on={("enp1s0f0", 0)})
    pci = driver(tmp_path, netlink)
    instance = uuid4()
    with pytest.raises(DriverError):
        await pci.assign(
            instance,
            (
                PciAssignment(VF00, mac="fa:16:3e:00:00:01"),
                PciAssignment(VF01, mac="fa:16:3e:00:00:02"),
            ),
        )
    assert netlink.state("enp1s0f0", 1) == (RESET_MAC, 0)
    assert all(d.status is PciDeviceStatus.AVAILABLE for d in await pci.discover())
    assert await pci.release(instance) == ()


async def test_set_num_vfs_checks_the_pf(tmp_path: Path) -> None:
    pci = driver(tmp_path, RecordingVfNetlink())
    with pytest.raises(InvalidStateError, match="not an SR-IOV PF"):
        await pci.set_num_vfs(GPU, 1)
    with pytest.raises(InvalidStateError, match=r"0\.\.4"):
        await pci.set_num_vfs("0000:01:00.0", 5)
