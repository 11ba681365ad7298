"""PCI scenarios run inside a umockdev testbed, in a child process started by the tests
under `umockdev-wrapper` (libumockdev-preload must be in LD_PRELOAD before the process
starts, so the pytest process itself cannot host the testbed):

    umockdev-wrapper .venv/bin/python -m tests.integration.pci.udev_scenario \\
        SCENARIO TREE SPEC STATE_DIR

The testbed is loaded from TREE (a umockdev-record file); the real `--pci udev` driver
(UdevPci with pyudev and its kernel-uevent monitor) runs against it with the recording
netlink layer. The outcome is printed as one JSON document on stdout for the test to
check.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from uuid import UUID

from node_agent.drivers.pci.base import PciAssignment
from node_agent.drivers.pci.netlink import RecordingVfNetlink
from node_agent.drivers.pci.scan import scan
from node_agent.drivers.pci.spec import load_spec
from node_agent.drivers.pci.udev import UdevPci
from node_agent.services.compute_pci import InventoryWatch

PF0 = "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
NEW_VF = "0000:01:10.4"
NEW_VF_PATH = f"/sys/devices/pci0000:00/0000:00:01.0/{NEW_VF}"
INSTANCE = UUID("00000000-0000-4000-8000-000000000001")


def _testbed(tree: Path) -> Any:
    import gi

    gi.require_version("UMockdev", "1.0")
    from gi.repository import UMockdev

    testbed = UMockdev.Testbed.new()
    if not testbed.add_from_file(str(tree)):
        raise RuntimeError(f"umockdev could not load {tree}")
    return testbed


def _inventory(devices: Any) -> list[dict[str, Any]]:
    return [device.model_dump(mode="json") for device in devices]


async def discover(driver: UdevPci, testbed: Any) -> dict[str, Any]:
    scanned = await asyncio.to_thread(scan)
    return {
        "scanned": [asdict(d) | {"virtfns": dict(d.virtfns)} for d in scanned],
        "offered": _inventory(await driver.discover()),
    }


async def hotplug(driver: UdevPci, testbed: Any) -> dict[str, Any]:
    """A VF appears on PF0 (as writing sriov_numvfs would make the kernel add it), then
    vanishes; the kernel-uevent monitor must notice both and InventoryWatch report the
    inventory each time."""
    reports: list[list[dict[str, Any]]] = []
    changed = asyncio.Event()

    async def report() -> None:  # what the agent does: publish a fresh inventory
        reports.append(_inventory(await driver.discover()))
        changed.set()

    watch = InventoryWatch(driver, report)
    await watch.start()
    root = testbed.get_root_dir()
    before = _inventory(await driver.discover())

    async def wait() -> tuple[float, list[dict[str, Any]]]:
        start = time.monotonic()
        await asyncio.wait_for(changed.wait(), 5)
        changed.clear()
        return time.monotonic() - start, reports[-1]

    testbed.set_attribute(PF0, "sriov_numvfs", "3")
    os.symlink(f"../{NEW_VF}", f"{root}{PF0}/virtfn2")
    testbed.add_from_string(
        f"P: {NEW_VF_PATH.removeprefix('/sys')}\n"
        "E: SUBSYSTEM=pci\nE: DRIVER=vfio-pci\n"
        "A: vendor=0x8086\nA: device=0x10ed\nA: class=0x020000\nA: numa_node=0\n"
        "L: driver=../../../../bus/pci/drivers/vfio-pci\n"
        "L: physfn=../0000:01:00.0\n"
    )
    added_after, after_add = await wait()

    testbed.uevent(NEW_VF_PATH, "remove")
    testbed.remove_device(NEW_VF_PATH)
    os.unlink(f"{root}{PF0}/virtfn2")
    testbed.set_attribute(PF0, "sriov_numvfs", "2")
    removed_after, after_remove = await wait()
    await watch.close()
    return {
        "reports": len(reports),
        "before": before,
        "after_add": after_add,
        "after_remove": after_remove,
        "seconds": [added_after, removed_after],
    }


async def claim(driver: UdevPci, testbed: Any) -> dict[str, Any]:
    netlink = driver.netlink
    assert isinstance(netlink, RecordingVfNetlink)
    await driver.assign(
        INSTANCE,
        (
            PciAssignment("0000:01:10.2", mac="fa:16:3e:12:34:56", vlan=42),
            PciAssignment("0000:82:00.0"),
        ),
    )
    claimed = _inventory(await driver.discover())
    calls_after_assign = list(netlink.calls)
    released = await driver.release(INSTANCE)
    after_release = _inventory(await driver.discover())
    vfs = await driver.set_num_vfs("0000:81:00.0", 3)
    numvfs_file = Path("/sys/devices/pci0000:80/0000:80:01.0/0000:81:00.0/sriov_numvfs")
    numvfs = await asyncio.to_thread(numvfs_file.read_text)
    return {
        "claimed": claimed,
        "calls_after_assign": calls_after_assign,
        "released": list(released),
        "calls": netlink.calls,
        "after_release": after_release,
        "numvfs_written": numvfs.strip(),
        "vfs_reported": [vf.address for vf in vfs],
    }


SCENARIOS = {"discover": discover, "hotplug": hotplug, "claim": claim}


async def main(name: str, tree: Path, spec: Path, state_dir: Path) -> dict[str, Any]:
    testbed = _testbed(tree)
    driver = UdevPci(state_dir, load_spec(spec), RecordingVfNetlink(), settle_s=0.05)
    return await SCENARIOS[name](driver, testbed)


if __name__ == "__main__":
    name, tree, spec, state_dir = sys.argv[1:5]
    result = asyncio.run(main(name, Path(tree), Path(spec), Path(state_dir)))
    json.dump(result, sys.stdout, default=str)
