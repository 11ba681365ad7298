"""What udev says about the host's PCI devices, read with pyudev: one record per
device with its ids, class, driver, NUMA node, SR-IOV role (a PF has `sriov_totalvfs`
and `virtfnN` links to its VFs, a VF a `physfn` link to its PF) and network interface.

Blocking (sysfs reads): call it in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyudev


@dataclass(frozen=True)
class UdevPciDevice:
    address: str
    vendor_id: str  # "8086"
    product_id: str
    class_code: str | None = None  # "020000"
    driver: str | None = None
    numa_node: int | None = None
    total_vfs: int = 0  # > 0: an SR-IOV PF
    num_vfs: int = 0
    virtfns: Mapping[int, str] = field(default_factory=dict)  # VF index -> VF address
    physfn: str | None = None  # a VF's PF
    netdev: str | None = None
    sys_path: str = ""

    @property
    def is_pf(self) -> bool:
        return self.total_vfs > 0

    @property
    def is_vf(self) -> bool:
        return self.physfn is not None


def _attr(device: pyudev.Device, name: str) -> str | None:
    value = device.attributes.get(name)
    return None if value is None else value.decode(errors="replace").strip()


def _hex_id(device: pyudev.Device, name: str) -> str:
    value = _attr(device, name) or "0000"
    return value.lower().removeprefix("0x").rjust(4, "0")[-4:]


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value, 0)
    except ValueError:
        return None


def _links(sys_path: str) -> tuple[dict[int, str], str | None]:
    virtfns: dict[int, str] = {}
    physfn = None
    try:
        names = os.listdir(sys_path)
    except OSError:
        return virtfns, physfn
    for name in names:
        if name.startswith("virtfn") and name[6:].isdigit():
            virtfns[int(name[6:])] = os.path.basename(os.readlink(os.path.join(sys_path, name)))
        elif name == "physfn":
            physfn = os.path.basename(os.readlink(os.path.join(sys_path, name)))
    return virtfns, physfn


def read_device(device: pyudev.Device, netdevs: Mapping[str, str]) -> UdevPciDevice:
    """One PCI device; `netdevs`: device sys_path -> the name of its network interface."""
    numa = _int(_attr(device, "numa_node"))
    virtfns, physfn = _links(device.sys_path)
    class_code = _attr(device, "class")
    return UdevPciDevice(
        address=device.sys_name,
        vendor_id=_hex_id(device, "vendor"),
        product_id=_hex_id(device, "device"),
        class_code=class_code.removeprefix("0x") if class_code else None,
        driver=device.driver or device.properties.get("DRIVER"),
        numa_node=numa if numa is not None and numa >= 0 else None,
        total_vfs=_int(_attr(device, "sriov_totalvfs")) or 0,
        num_vfs=_int(_attr(device, "sriov_numvfs")) or 0,
        virtfns=virtfns,
        physfn=physfn,
        netdev=netdevs.get(device.sys_path),
        sys_path=device.sys_path,
    )


def scan(context: pyudev.Context | None = None) -> tuple[UdevPciDevice, ...]:
    """Every PCI device udev knows, by address."""
    context = context or pyudev.Context()
    netdevs: dict[str, str] = {}
    for net in context.list_devices(subsystem="net"):
        parent = net.parent
        if parent is not None and parent.subsystem == "pci":
            netdevs.setdefault(parent.sys_path, net.sys_name)
    devices = context.list_devices(subsystem="pci")
    found = (read_device(device, netdevs) for device in devices)
    return tuple(sorted(found, key=lambda d: d.address))
