"""PCI passthrough and SR-IOV on a host: discover devices (PFs, VFs, plain PCI), set the
number of VFs of a PF, assign devices to an instance and release them, and watch the
host for devices appearing or vanishing (as pyudev, sysfs and netlink would).

Assigning a VF that serves a port sets the port's MAC (and VLAN) on the VF through its
PF; releasing resets them. The domain's `<hostdev>` elements are rendered from the
claim by the hypervisor driver (node_agent/drivers/hypervisor/domain_guest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from schemas.pci import PciDevice


@dataclass(frozen=True)
class PciAssignment:
    """One device given to an instance; `mac`/`vlan` only for a VF serving a port."""

    address: str
    mac: str | None = None
    vlan: int | None = None


class PciDriver(Protocol):
    async def discover(self) -> tuple[PciDevice, ...]:
        """Every assignable device of the host, each PF followed by its VFs (which name
        it in `parent_addr`); devices assigned to an instance are CLAIMED by it."""

    async def set_num_vfs(self, pf_address: str, count: int) -> tuple[PciDevice, ...]:
        """Make the PF have exactly `count` VFs; returns its VFs."""

    async def assign(self, instance_id: UUID, devices: Sequence[PciAssignment]) -> None:
        """Claim the devices for the instance (idempotent for the same instance), setting
        VF MACs/VLANs; all or nothing."""

    async def release(self, instance_id: UUID) -> tuple[str, ...]:
        """Undo `assign` for every device of the instance; returns their addresses."""

    async def watch(self, on_change: Callable[[], None]) -> None:
        """Call `on_change` (on the loop) whenever devices appear, vanish or change."""

    async def close(self) -> None:
        """Stop watching."""
