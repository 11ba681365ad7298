"""Choosing PCI devices on one host: free devices, PF/VF exclusivity and NUMA affinity.

A device is free when the agent reports it available, no allocation holds it, and:
a PF is free only while none of its VFs is in use; a VF is free only while its PF is not
in use. VFs are packed onto PFs that already serve other VFs, to keep whole PFs free for
direct-physical ports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from schemas.claims import PciClaim
from schemas.numa import NumaCell
from schemas.pci import PciDevice, PciDeviceStatus, PciDeviceType, PciNumaAffinity, PciRequest

_AVAILABLE = PciDeviceStatus.AVAILABLE
_BUSY = frozenset({PciDeviceStatus.CLAIMED, PciDeviceStatus.ALLOCATED})
_ORDER = {PciDeviceType.PF: 0, PciDeviceType.PCI: 1, None: 1, PciDeviceType.VF: 2}


class PciPool:
    """A host's devices and the addresses in use, for one fit decision (private, mutable)."""

    __slots__ = ("_base", "by_addr", "devices", "socket_of", "used", "vfs_of")

    def __init__(
        self,
        devices: Sequence[PciDevice],
        used: Iterable[str],
        cells: Sequence[NumaCell],
    ) -> None:
        self.devices = devices
        self._base = frozenset(used)
        self.used: set[str] = set(self._base)
        self.by_addr = {device.address: device for device in devices}
        self.vfs_of: dict[str, list[PciDevice]] = {}
        for device in devices:
            if device.parent_addr is not None:
                self.vfs_of.setdefault(device.parent_addr, []).append(device)
        self.socket_of = {cell.id: cell.socket for cell in cells}

    def in_use(self, address: str) -> bool:
        device = self.by_addr.get(address)
        return address in self.used or (device is not None and device.status in _BUSY)

    def is_free(self, device: PciDevice) -> bool:
        if device.status is not _AVAILABLE or device.address in self.used:
            return False
        if device.dev_type is PciDeviceType.PF:
            return not any(self.in_use(vf.address) for vf in self.vfs_of.get(device.address, ()))
        if device.parent_addr is not None:
            return not self.in_use(device.parent_addr)
        return True

    def affine(
        self,
        device: PciDevice,
        policy: PciNumaAffinity,
        cells: frozenset[int] | None,
        relax: bool,
    ) -> bool:
        """Whether `device` may serve a guest on host `cells` (None: no NUMA topology)."""
        if cells is None:
            return True
        node = device.numa_node
        if policy is PciNumaAffinity.REQUIRED:
            return node in cells
        if policy is PciNumaAffinity.LEGACY:
            return node is None or node in cells
        if policy is PciNumaAffinity.SOCKET:
            sockets = {self.socket_of.get(cell) for cell in cells} - {None}
            return node is not None and self.socket_of.get(node) in sockets
        return relax or node in cells  # PREFERRED: local on the first pass, anywhere after

    def take_all(
        self,
        requests: Sequence[PciRequest],
        cells: frozenset[int] | None,
        relax: bool,
    ) -> list[PciClaim] | str:
        """Devices for every request, or the reason they cannot all be had.

        Whole PFs are chosen first, VFs last, so packing VFs cannot starve a PF request.
        """
        self.used = set(self._base)
        order = sorted(range(len(requests)), key=lambda i: _ORDER[requests[i].dev_type])
        claims: list[PciClaim] = []
        for index in order:
            taken = self._take(requests[index], index, cells, relax)
            if isinstance(taken, str):
                return taken
            claims.extend(taken)
        claims.sort(key=lambda claim: (claim.request_index, claim.address))
        return claims

    def _take(
        self,
        request: PciRequest,
        index: int,
        cells: frozenset[int] | None,
        relax: bool,
    ) -> list[PciClaim] | str:
        candidates = [
            device
            for device in self.devices
            if request.matches(device)
            and self.is_free(device)
            and self.affine(device, request.numa_policy, cells, relax)
        ]
        candidates.sort(key=lambda device: self._rank(device, cells))
        chosen: list[PciClaim] = []
        for device in candidates:
            if len(chosen) == request.count:
                break
            if self.is_free(device):  # an earlier pick may have blocked its PF or VFs
                self.used.add(device.address)
                chosen.append(_claim(device, index, request))
        if len(chosen) < request.count:
            self.used.difference_update(claim.address for claim in chosen)
            return self.shortage(request, cells, relax)
        return chosen

    def _rank(self, device: PciDevice, cells: frozenset[int] | None) -> tuple[int, int, str, str]:
        remote = 0 if cells is None or device.numa_node in cells else 1
        parent = device.parent_addr
        packed = 0 if parent is not None and self._pf_serving(parent) else 1
        return remote, packed, parent or "", device.address

    def _pf_serving(self, pf_address: str) -> bool:
        return any(self.in_use(vf.address) for vf in self.vfs_of.get(pf_address, ()))

    def shortage(
        self,
        request: PciRequest,
        cells: frozenset[int] | None,
        relax: bool = False,
    ) -> str:
        """Why `request` cannot be met: devices matching, free, and free near the cells."""
        matching = [device for device in self.devices if request.matches(device)]
        free = [device for device in matching if self.is_free(device)]
        reason = f"pci: {request.describe()}: {len(matching)} matching, {len(free)} free"
        if cells is not None:
            near = sum(self.affine(d, request.numa_policy, cells, relax) for d in free)
            reason += (
                f", {near} of them allowed near NUMA cells {sorted(cells)} ({request.numa_policy})"
            )
        if request.dev_type is PciDeviceType.VF:
            per_pf: dict[str, int] = {}
            for device in matching:
                key = device.parent_addr or "?"
                per_pf[key] = per_pf.get(key, 0) + self.is_free(device)
            counts = ", ".join(f"{pf}={n}" for pf, n in sorted(per_pf.items()))
            reason += f"; free VFs per PF: {counts or 'none'}"
        return reason


def _claim(device: PciDevice, index: int, request: PciRequest) -> PciClaim:
    return PciClaim(
        address=device.address,
        vendor_id=device.vendor_id,
        product_id=device.product_id,
        dev_type=device.dev_type,
        parent_addr=device.parent_addr,
        physical_network=device.physical_network,
        numa_node=device.numa_node,
        request_index=index,
        port_id=request.port_id,
    )
