"""The real PCI driver (`--pci udev`): devices as udev sees them (scan.py) filtered by
the device spec (spec.py), claims kept in the agent's state dir (claims.py), VF MACs and
VLANs set through the PF with rtnetlink (netlink.py), and a pyudev Monitor on the
kernel's uevents so VFs appearing or vanishing (`sriov_numvfs` written, a driver bound)
reach the agent at once.

The monitor listens to the kernel source: no udevd runs on the test machines, and the
`udev` source would hear nothing there. Its fd is watched with `loop.add_reader`; a
burst of events (64 VFs created at once) is reported as one change after `settle_s`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import UUID

import pyudev

from node_agent.drivers.errors import InvalidStateError, NotFoundError
from node_agent.drivers.pci.base import PciAssignment
from node_agent.drivers.pci.claims import ClaimRecord, ClaimStore
from node_agent.drivers.pci.inventory import offered
from node_agent.drivers.pci.netlink import RESET_MAC, VfNetlink
from node_agent.drivers.pci.scan import UdevPciDevice, scan
from node_agent.drivers.pci.spec import DeviceSpec
from schemas.pci import PciDevice

log = logging.getLogger(__name__)

Scanner = Callable[[], tuple[UdevPciDevice, ...]]


class UdevPci:
    def __init__(
        self,
        state_dir: Path,
        spec: DeviceSpec,
        netlink: VfNetlink,
        scanner: Scanner = scan,
        settle_s: float = 0.1,
    ) -> None:
        self.spec = spec
        self.netlink = netlink
        self.claims = ClaimStore(state_dir)
        self._scan = scanner
        self._settle_s = settle_s
        self._monitor: pyudev.Monitor | None = None
        self._pending: asyncio.TimerHandle | None = None

    async def _scanned(self) -> dict[str, UdevPciDevice]:
        return {d.address: d for d in await asyncio.to_thread(self._scan)}

    async def discover(self) -> tuple[PciDevice, ...]:
        scanned = await asyncio.to_thread(self._scan)
        return offered(scanned, self.spec, self.claims.owners())

    async def set_num_vfs(self, pf_address: str, count: int) -> tuple[PciDevice, ...]:
        pf = (await self._scanned()).get(pf_address)
        if pf is None:
            raise NotFoundError(f"no PCI device {pf_address}")
        if not pf.is_pf:
            raise InvalidStateError(f"{pf_address} is not an SR-IOV PF")
        if not 0 <= count <= pf.total_vfs:
            raise InvalidStateError(f"{pf_address} supports 0..{pf.total_vfs} VFs, not {count}")
        await asyncio.to_thread(_write_num_vfs, Path(pf.sys_path), pf.num_vfs, count)
        return tuple(d for d in await self.discover() if d.parent_addr == pf_address)

    async def assign(self, instance_id: UUID, devices: Sequence[PciAssignment]) -> None:
        scanned = await self._scanned()
        inventory = {d.address for d in offered(tuple(scanned.values()), self.spec, {})}
        owners = self.claims.owners()
        records = []
        for wanted in devices:
            if wanted.address not in inventory:
                raise NotFoundError(f"PCI device {wanted.address} is not offered on this host")
            owner = owners.get(wanted.address)
            if owner is not None and owner != instance_id:
                raise InvalidStateError(f"PCI device {wanted.address} is held by {owner}")
            records.append(self._record(scanned, wanted))
        done: list[ClaimRecord] = []
        try:
            for record in records:
                if record.pf_netdev is not None and record.vf_index is not None:
                    await self.netlink.set_vf(
                        record.pf_netdev, record.vf_index, record.mac or RESET_MAC, record.vlan or 0
                    )
                done.append(record)
        except Exception:
            await self._reset(done)
            raise
        self.claims.put(instance_id, tuple(records))

    @staticmethod
    def _record(scanned: dict[str, UdevPciDevice], wanted: PciAssignment) -> ClaimRecord:
        device = scanned[wanted.address]
        pf = scanned.get(device.physfn) if device.physfn else None
        if wanted.mac is None or pf is None or pf.netdev is None:
            return ClaimRecord(address=wanted.address)
        index = next((i for i, vf in pf.virtfns.items() if vf == device.address), None)
        if index is None:
            raise InvalidStateError(f"{pf.address} has no virtfn link to {device.address}")
        return ClaimRecord(
            address=wanted.address,
            pf_netdev=pf.netdev,
            vf_index=index,
            mac=wanted.mac,
            vlan=wanted.vlan,
        )

    async def _reset(self, records: Sequence[ClaimRecord]) -> None:
        for record in records:
            if record.pf_netdev is None or record.vf_index is None:
                continue
            try:
                await self.netlink.set_vf(record.pf_netdev, record.vf_index, RESET_MAC, 0)
            except Exception:
                log.exception("resetting %s vf %s failed", record.pf_netdev, record.vf_index)

    async def release(self, instance_id: UUID) -> tuple[str, ...]:
        records = self.claims.records(instance_id)
        await self._reset(records)
        self.claims.drop(instance_id)
        return tuple(record.address for record in records)

    # -- kernel uevents -------------------------------------------------------------
    async def watch(self, on_change: Callable[[], None]) -> None:
        if self._monitor is not None:
            return
        monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source="kernel")
        monitor.filter_by("pci")
        monitor.start()
        loop = asyncio.get_running_loop()

        def readable() -> None:
            seen = False
            while (device := monitor.poll(timeout=0)) is not None:
                log.debug("uevent %s %s", device.action, device.sys_path)
                seen = True
            if seen and self._pending is None:
                self._pending = loop.call_later(self._settle_s, fire)

        def fire() -> None:
            self._pending = None
            on_change()

        loop.add_reader(monitor.fileno(), readable)
        self._monitor = monitor

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._monitor is not None:
            asyncio.get_running_loop().remove_reader(self._monitor.fileno())
            self._monitor = None


def _write_num_vfs(pf_path: Path, current: int, count: int) -> None:
    """The kernel refuses to change a non-zero VF count except through 0."""
    target = pf_path / "sriov_numvfs"
    if current and current != count:
        target.write_text("0")
    if current != count:
        target.write_text(str(count))


def udev_pci(state_dir: Path, spec_path: Path | None) -> UdevPci:
    """The driver of `--pci udev`: the spec file given with `--pci-spec`, rtnetlink."""
    from node_agent.drivers.pci.netlink import PyrouteVfNetlink
    from node_agent.drivers.pci.spec import load_spec

    return UdevPci(state_dir, load_spec(spec_path), PyrouteVfNetlink())
