"""PCI devices around a domain's life: the claim's devices are assigned on this host
(claimed, VF MAC/VLAN set for the ports they serve) before the domain is defined, and
released when it is destroyed or its spawn fails. The `<hostdev>` elements themselves
are part of the domain XML (node_agent/drivers/hypervisor/domain_guest.py).

VLANs: the Spawn message carries no network segment for a port yet, so VFs get the
port's MAC and no VLAN from here.

`InventoryWatch` turns the driver's device changes (VFs appearing or vanishing) into a
fresh inventory report by the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from node_agent.drivers.hypervisor.base import DomainInfo, HypervisorDriver
from node_agent.drivers.pci.base import PciAssignment, PciDriver
from schemas.messages.agent_compute import Spawn

log = logging.getLogger(__name__)


def assignments_for(req: Spawn) -> tuple[PciAssignment, ...]:
    """Each claimed device, with the MAC of the port a VF serves."""
    macs = {port.id: port.mac_address for port in req.ports}
    return tuple(
        PciAssignment(
            address=device.address,
            mac=macs.get(device.port_id) if device.port_id is not None else None,
        )
        for device in req.claim.pci_devices
    )


async def spawn_with_devices(
    pci: PciDriver | None, hypervisor: HypervisorDriver, req: Spawn
) -> DomainInfo:
    """`hypervisor.spawn(req)` with the claim's devices assigned first, and released
    again when the spawn fails."""
    if pci is None or not req.claim.pci_devices:
        return await hypervisor.spawn(req)
    await pci.assign(req.instance_id, assignments_for(req))
    try:
        return await hypervisor.spawn(req)
    except BaseException:
        await release_devices(pci, req.instance_id)
        raise


async def release_devices(pci: PciDriver | None, instance_id: UUID) -> None:
    """Give back every device of the instance (nothing when it has none); a failure is
    logged, never raised: the domain is gone either way."""
    if pci is None:
        return
    try:
        released = await pci.release(instance_id)
    except Exception:
        log.exception("releasing the PCI devices of %s failed", instance_id)
        return
    if released:
        log.info("released PCI devices %s of %s", ", ".join(released), instance_id)


class InventoryWatch:
    """Re-reports the host's inventory whenever the PCI driver sees devices appear,
    vanish or change (kernel uevents): `report` runs once per burst of changes, and once
    more if changes arrived while it ran."""

    def __init__(self, pci: PciDriver, report: Callable[[], Awaitable[None]]) -> None:
        self._pci = pci
        self._report = report
        self._task: asyncio.Task[None] | None = None
        self._again = False

    async def start(self) -> None:
        await self._pci.watch(self._changed)

    def _changed(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run(), name="pci-inventory")

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self._report()
            except Exception:
                log.exception("reporting the PCI inventory failed")
            if not self._again:
                return

    async def close(self) -> None:
        await self._pci.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
