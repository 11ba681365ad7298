"""A scanned host as pyudev would report it (scan.UdevPciDevice records): two ixgbe
PFs on two NUMA nodes with two VFs each, a GPU and a SATA controller."""

from __future__ import annotations

from node_agent.drivers.pci.scan import UdevPciDevice

PF0, PF1 = "0000:01:00.0", "0000:81:00.0"
VF00, VF01 = "0000:01:10.0", "0000:01:10.2"
VF10, VF11 = "0000:81:10.0", "0000:81:10.2"
GPU, SATA = "0000:82:00.0", "0000:00:1f.2"


def _vf(address: str, pf: str, numa: int, driver: str = "vfio-pci") -> UdevPciDevice:
    return UdevPciDevice(
        address=address,
        vendor_id="8086",
        product_id="10ed",
        driver=driver,
        numa_node=numa,
        physfn=pf,
    )


def scanned() -> tuple[UdevPciDevice, ...]:
    return (
        UdevPciDevice(
            address=SATA, vendor_id="8086", product_id="a282", driver="ahci", class_code="010601"
        ),
        UdevPciDevice(
            address=PF0,
            vendor_id="8086",
            product_id="10fb",
            driver="ixgbe",
            numa_node=0,
            total_vfs=4,
            num_vfs=2,
            # index order is not address order: the inventory follows the index
            virtfns={0: VF01, 1: VF00},
            netdev="enp1s0f0",
        ),
        _vf(VF00, PF0, 0, driver="ixgbevf"),
        _vf(VF01, PF0, 0),
        UdevPciDevice(
            address=PF1,
            vendor_id="8086",
            product_id="10fb",
            driver="ixgbe",
            numa_node=1,
            total_vfs=4,
            num_vfs=2,
            virtfns={0: VF10, 1: VF11},
            netdev="enp129s0f0",
        ),
        _vf(VF10, PF1, 1),
        _vf(VF11, PF1, 1),
        UdevPciDevice(
            address=GPU, vendor_id="10de", product_id="1eb8", driver="vfio-pci", numa_node=1
        ),
    )
