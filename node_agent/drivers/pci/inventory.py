"""From what udev sees to what the agent offers: the devices the device spec selects,
as PciDevice records, each PF followed by its VFs (in VF index order, naming the PF in
`parent_addr`), then the plain devices. Devices held by an instance are CLAIMED.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from node_agent.drivers.pci.scan import UdevPciDevice
from node_agent.drivers.pci.spec import DeviceSpec
from schemas.pci import PciDevice, PciDeviceStatus, PciDeviceType


def _vf_order(devices: Mapping[str, UdevPciDevice]) -> dict[str, int]:
    """VF address -> its index on its PF (from the PF's virtfnN links)."""
    return {vf: index for device in devices.values() for index, vf in device.virtfns.items()}


def offered(
    scanned: Sequence[UdevPciDevice], spec: DeviceSpec, owners: Mapping[str, UUID]
) -> tuple[PciDevice, ...]:
    by_address = {device.address: device for device in scanned}
    index = _vf_order(by_address)
    chosen: dict[str, PciDevice] = {}
    for device in scanned:
        pf = by_address.get(device.physfn) if device.physfn else None
        entry = spec.entry_for(device, pf.netdev if pf else None)
        if entry is None:
            continue
        owner = owners.get(device.address)
        dev_type = (
            PciDeviceType.VF
            if device.is_vf
            else PciDeviceType.PF
            if device.is_pf
            else PciDeviceType.PCI
        )
        chosen[device.address] = PciDevice(
            address=device.address,
            vendor_id=device.vendor_id,
            product_id=device.product_id,
            dev_type=dev_type,
            parent_addr=device.physfn,
            physical_network=entry.physical_network,
            numa_node=device.numa_node,
            status=PciDeviceStatus.CLAIMED if owner else PciDeviceStatus.AVAILABLE,
            instance_id=owner,
        )

    def key(device: PciDevice) -> tuple[str, int, int, str]:
        if device.dev_type is PciDeviceType.PCI:
            return ("~", 0, 0, device.address)  # plain devices after every PF
        group = device.parent_addr or device.address
        is_vf = device.parent_addr is not None
        return (group, int(is_vf), index.get(device.address, 1 << 16), device.address)

    return tuple(sorted(chosen.values(), key=key))
