"""Whether a host's free PCI devices can serve a list of PCI requests, answered fast: the
same choice `schemas.fit_pci.PciPool.take_all` makes (PFs first, VFs last; a PF is free
only while none of its VFs is in use and a VF only while its PF is not; VFs packed onto
PFs already serving others; NUMA-local devices first), replayed on plain sets and
counters instead of re-scanning every VF for every candidate, so a scheduler can ask it
of thousands of hosts per decision. It answers yes or no; the devices themselves are
still chosen by `schemas.fit.fit` for the chosen host, and the conductor re-checks them.

A single request whose matching devices are all of one type (a VF for a port, a PF for
a direct-physical port, a GPU by alias) cannot block itself, so for it the answer is a
count of the free matching devices its NUMA policy allows, kept per kind of device.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from schemas.numa import NumaCell
from schemas.pci import PciDevice, PciDeviceStatus, PciDeviceType, PciNumaAffinity, PciRequest

_AVAILABLE = PciDeviceStatus.AVAILABLE
_BUSY = frozenset({PciDeviceStatus.CLAIMED, PciDeviceStatus.ALLOCATED})
_ORDER = {PciDeviceType.PF: 0, PciDeviceType.PCI: 1, None: 1, PciDeviceType.VF: 2}

# vendor, product, type, physical network, NUMA node: what matching and affinity look at
Kind = tuple[str, str, PciDeviceType, str | None, int | None]
Selector = tuple[str | None, str | None, PciDeviceType | None, str | None]


def _kind(device: PciDevice) -> Kind:
    d = device
    return d.vendor_id, d.product_id, d.dev_type, d.physical_network, d.numa_node


def _selector(request: PciRequest) -> Selector:
    r = request
    return r.vendor_id, r.product_id, r.dev_type, r.physical_network


def _matches(selector: Selector, kind: Kind) -> bool:
    """`PciRequest.matches` on the parts it reads."""
    vendor, product, dev_type, network = selector
    return (
        (vendor is None or kind[0] == vendor)
        and (product is None or kind[1] == product)
        and (dev_type is None or kind[2] is dev_type)
        and (network is None or kind[3] == network)
    )


@lru_cache(maxsize=4096)
def _matching(selector: Selector, kinds: frozenset[Kind]) -> tuple[tuple[Kind, ...], bool]:
    """The kinds of `kinds` a request selects, and whether they share one device type
    (cached: hosts of one model have the same kinds)."""
    found = tuple(kind for kind in kinds if _matches(selector, kind))
    return found, len({kind[2] for kind in found}) <= 1


class PciFree:
    """A host's devices with those in use (immutable; one per host state)."""

    __slots__ = ("busy", "devices", "free_by_kind", "kinds", "serving", "socket_of")

    def __init__(
        self, devices: Sequence[PciDevice], used: Iterable[str], cells: Sequence[NumaCell]
    ) -> None:
        used = set(used)
        self.devices = tuple(devices)
        # in use: held by an allocation, or claimed/allocated as the agent sees it
        self.busy = frozenset(
            d.address for d in devices if d.address in used or d.status in _BUSY
        ) | frozenset(used)
        self.serving: Counter[str] = Counter(
            d.parent_addr for d in devices if d.parent_addr is not None and d.address in self.busy
        )
        self.socket_of = {cell.id: cell.socket for cell in cells}
        self.kinds = frozenset(_kind(device) for device in devices)
        self.free_by_kind: Counter[Kind] = Counter(
            _kind(device) for device in devices if self._free(device, self.busy, self.serving)
        )

    @staticmethod
    def _free(device: PciDevice, used: frozenset[str] | set[str], serving: Counter[str]) -> bool:
        if device.status is not _AVAILABLE or device.address in used:
            return False
        if device.dev_type is PciDeviceType.PF:
            return serving[device.address] == 0
        return device.parent_addr is None or device.parent_addr not in used

    def _affine(
        self, node: int | None, policy: PciNumaAffinity, cells: frozenset[int] | None, relax: bool
    ) -> bool:
        """`PciPool.affine` for a device on NUMA node `node`."""
        if cells is None:
            return True
        if policy is PciNumaAffinity.REQUIRED:
            return node in cells
        if policy is PciNumaAffinity.LEGACY:
            return node is None or node in cells
        if policy is PciNumaAffinity.SOCKET:
            sockets = {self.socket_of.get(cell) for cell in cells} - {None}
            return node is not None and self.socket_of.get(node) in sockets
        return relax or node in cells

    def _counted(
        self, request: PciRequest, cells: frozenset[int] | None, relax: bool
    ) -> int | None:
        """Free devices allowed near `cells` for `request`, when all the devices it
        matches share one type (else None: picks could block each other)."""
        matching, one_type = _matching(_selector(request), self.kinds)
        if not one_type:
            return None
        policy = request.numa_policy
        return sum(
            self.free_by_kind[kind]
            for kind in matching
            if self._affine(kind[4], policy, cells, relax)
        )

    def can_take(
        self,
        requests: Sequence[PciRequest],
        cells: frozenset[int] | None = None,
        relax: bool = True,
    ) -> bool:
        """Whether `PciPool.take_all(requests, cells, relax)` would find devices."""
        if not requests:
            return True
        if len(requests) == 1:
            counted = self._counted(requests[0], cells, relax)
            if counted is not None:
                return counted >= requests[0].count
        used = set(self.busy)
        serving = Counter(self.serving)
        for request in sorted(requests, key=lambda r: _ORDER[r.dev_type]):
            if not self._take(request, cells, relax, used, serving):
                return False
        return True

    def _take(
        self,
        request: PciRequest,
        cells: frozenset[int] | None,
        relax: bool,
        used: set[str],
        serving: Counter[str],
    ) -> bool:
        candidates = [
            d
            for d in self.devices
            if request.matches(d)
            and self._free(d, used, serving)
            and self._affine(d.numa_node, request.numa_policy, cells, relax)
        ]

        def rank(d: PciDevice) -> tuple[int, int, str, str]:
            remote = 0 if cells is None or d.numa_node in cells else 1
            parent = d.parent_addr
            packed = 0 if parent is not None and serving[parent] > 0 else 1
            return remote, packed, parent or "", d.address

        candidates.sort(key=rank)
        chosen = 0
        for device in candidates:
            if chosen == request.count:
                break
            if self._free(device, used, serving):
                used.add(device.address)
                if device.parent_addr is not None:
                    serving[device.parent_addr] += 1
                chosen += 1
        return chosen >= request.count
