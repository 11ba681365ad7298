"""PCI passthrough and SR-IOV on a host: discover devices (PFs, VFs, plain PCI) and set
the number of VFs of a PF (as pyudev and sysfs would)."""

from __future__ import annotations

from typing import Protocol

from schemas.pci import PciDevice


class PciDriver(Protocol):
    async def discover(self) -> tuple[PciDevice, ...]:
        """Every assignable device of the host, VFs naming their PF."""

    async def set_num_vfs(self, pf_address: str, count: int) -> tuple[PciDevice, ...]:
        """Make the PF have exactly `count` VFs; returns its VFs."""
