"""Does a request fit a host? The one resource arithmetic of skymesh.

The scheduler's filters and the conductor's plan apply both call `fit`, so a plan made on
a snapshot is re-checked with exactly the same rules before it is written.

    result = fit(inventory, usage, request)
    if result:                       # result.claim says exactly what would be taken
        usage = add_claim(usage, result.claim)
    else:
        log(result.resource, result.reason)

The common case (no PCI devices, no NUMA topology) is plain integer arithmetic.
"""

from __future__ import annotations

from schemas.claims import Claim, NumaCellClaim, PciClaim, ResourceRequest
from schemas.fit_numa import assignments, free_cells, shortage
from schemas.fit_pci import PciPool
from schemas.pci import PciNumaAffinity
from schemas.placement import HostInventory, HostUsage
from schemas.usage import Amounts, add_claim, capacity, free, subtract_claim, sum_claims

__all__ = [
    "Amounts",
    "Fit",
    "add_claim",
    "capacity",
    "fit",
    "free",
    "subtract_claim",
    "sum_claims",
]


class Fit:
    """The answer: a claim when the request fits, else the resource and reason it does not.

    Truthy when the request fits. For the plain case the Claim model is only built when
    `claim` is read, so filtering thousands of hosts builds no models.
    """

    __slots__ = ("_claim", "_request", "reason", "resource")

    def __init__(
        self,
        claim: Claim | None = None,
        resource: str = "",
        reason: str = "",
        request: ResourceRequest | None = None,
    ) -> None:
        self._claim = claim
        self._request = request
        self.resource = resource
        self.reason = reason

    @property
    def claim(self) -> Claim | None:
        if self._claim is None and self._request is not None:
            request = self._request
            self._claim = Claim(
                vcpus=request.vcpus, memory_mb=request.memory_mb, disk_gb=request.disk_gb
            )
        return self._claim

    def __bool__(self) -> bool:
        return self._claim is not None or self._request is not None

    def __repr__(self) -> str:
        if self:
            return f"Fit(claim={self.claim!r})"
        return f"Fit(resource={self.resource!r}, reason={self.reason!r})"


def fit(inventory: HostInventory, usage: HostUsage, request: ResourceRequest) -> Fit:
    """Whether `request` fits on a host offering `inventory` of which `usage` is taken."""
    refused = _amounts(inventory, usage, request)
    if refused is not None:
        return refused
    if not request.pci and request.numa is None:
        return Fit(request=request)
    return _topology(inventory, usage, request)


def _amounts(inv: HostInventory, usage: HostUsage, request: ResourceRequest) -> Fit | None:
    vcpus = request.vcpus if request.numa is None else request.shared_vcpus
    if vcpus and (
        vcpus > inv.vcpus
        or usage.vcpus + vcpus > int((inv.vcpus - inv.reserved_vcpus) * inv.cpu_allocation_ratio)
    ):
        return _refuse(
            "vcpus", vcpus, inv.vcpus, inv.reserved_vcpus, inv.cpu_allocation_ratio, usage.vcpus, ""
        )
    memory = request.memory_mb
    if memory and (
        memory > inv.memory_mb
        or usage.memory_mb + memory
        > int((inv.memory_mb - inv.reserved_memory_mb) * inv.ram_allocation_ratio)
    ):
        return _refuse(
            "memory_mb",
            memory,
            inv.memory_mb,
            inv.reserved_memory_mb,
            inv.ram_allocation_ratio,
            usage.memory_mb,
            " MB",
        )
    disk = request.disk_gb
    if disk and (
        disk > inv.disk_gb
        or usage.disk_gb + disk
        > int((inv.disk_gb - inv.reserved_disk_gb) * inv.disk_allocation_ratio)
    ):
        return _refuse(
            "disk_gb",
            disk,
            inv.disk_gb,
            inv.reserved_disk_gb,
            inv.disk_allocation_ratio,
            usage.disk_gb,
            " GB",
        )
    return None


def _refuse(
    name: str,
    wanted: int,
    total: int,
    reserved: int,
    ratio: float,
    used: int,
    unit: str,
) -> Fit:
    if wanted > total:
        return Fit(
            None,
            name,
            f"{name}: requested {wanted}{unit}, more than the host's "
            f"total {total}{unit} (the most one instance may take)",
        )
    cap = int((total - reserved) * ratio)
    return Fit(
        None,
        name,
        f"{name}: requested {wanted}{unit}, free {cap - used}{unit} of "
        f"capacity {cap}{unit} = (total {total} - reserved {reserved}) "
        f"x ratio {ratio}",
    )


def _topology(inv: HostInventory, usage: HostUsage, request: ResourceRequest) -> Fit:
    pool = PciPool(inv.pci_devices, usage.pci_devices, inv.numa_cells)
    numa = request.numa
    if numa is None:
        devices = pool.take_all(request.pci, None, relax=True)
        if isinstance(devices, str):
            return Fit(None, "pci", devices)
        return Fit(_claim(request, (), devices))
    if not inv.numa_cells:
        return Fit(None, "numa", "numa: the host reports no NUMA topology")
    cells = free_cells(inv.numa_cells, usage)
    relax_passes = [False]
    if any(pci.numa_policy is PciNumaAffinity.PREFERRED for pci in request.pci):
        relax_passes.append(True)  # preferred: NUMA-local devices first, any after
    pci_reason = ""
    tried: dict[tuple[frozenset[int], bool], list[PciClaim] | str] = {}
    for relax in relax_passes:
        for placement in assignments(cells, numa):
            if not request.pci:
                return Fit(_claim(request, placement, []))
            host_cells = frozenset(part.host_cell for part in placement)
            key = (host_cells, relax)
            if key not in tried:  # devices depend on the set of cells, not on the order
                tried[key] = pool.take_all(request.pci, host_cells, relax)
            devices = tried[key]
            if isinstance(devices, str):
                pci_reason = devices
                continue
            return Fit(_claim(request, placement, devices))
    if not pci_reason:
        return Fit(None, "numa", shortage(cells, numa))
    return Fit(
        None,
        "pci",
        f"{pci_reason}; no NUMA placement of the guest has them (the last one tried is shown)",
    )


def _claim(
    request: ResourceRequest,
    cells: tuple[NumaCellClaim, ...],
    devices: list[PciClaim],
) -> Claim:
    return Claim(
        vcpus=request.shared_vcpus,
        memory_mb=request.memory_mb,
        disk_gb=request.disk_gb,
        pci_devices=tuple(devices),
        numa_cells=cells,
    )
