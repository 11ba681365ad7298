"""Host capacity, free amounts, and adding or removing claims from a host's usage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.claims import Claim
from schemas.placement import EMPTY_USAGE, HostInventory, HostUsage, NumaCellUsage


@dataclass(frozen=True, slots=True)
class Amounts:
    vcpus: int
    memory_mb: int
    disk_gb: int


def capacity(inventory: HostInventory) -> Amounts:
    """(total - reserved) x allocation ratio, truncated, as Placement computes it."""
    inv = inventory
    return Amounts(
        int((inv.vcpus - inv.reserved_vcpus) * inv.cpu_allocation_ratio),
        int((inv.memory_mb - inv.reserved_memory_mb) * inv.ram_allocation_ratio),
        int((inv.disk_gb - inv.reserved_disk_gb) * inv.disk_allocation_ratio),
    )


def free(inventory: HostInventory, usage: HostUsage) -> Amounts:
    """Capacity minus usage (negative when a host was over-committed, e.g. a ratio lowered)."""
    cap = capacity(inventory)
    return Amounts(
        cap.vcpus - usage.vcpus, cap.memory_mb - usage.memory_mb, cap.disk_gb - usage.disk_gb
    )


def add_claim(usage: HostUsage, claim: Claim) -> HostUsage:
    """Usage with `claim` taken too; ValueError when it takes a device or CPU twice."""
    addresses = claim.pci_addresses
    if usage.pci_devices & addresses:
        raise ValueError(f"PCI devices already in use: {sorted(usage.pci_devices & addresses)}")
    cells = {cell.cell_id: cell for cell in usage.numa_cells}
    for part in claim.numa_cells:
        cell = cells.get(part.host_cell, NumaCellUsage(cell_id=part.host_cell))
        if cell.pinned_cpus & part.pinned_cpus:
            raise ValueError(
                f"CPUs already pinned on cell {part.host_cell}: "
                f"{sorted(cell.pinned_cpus & part.pinned_cpus)}"
            )
        cells[part.host_cell] = NumaCellUsage(
            cell_id=part.host_cell,
            pinned_cpus=cell.pinned_cpus | part.pinned_cpus,
            memory_mb=cell.memory_mb + part.memory_mb,
        )
    return HostUsage(
        vcpus=usage.vcpus + claim.vcpus,
        memory_mb=usage.memory_mb + claim.memory_mb,
        disk_gb=usage.disk_gb + claim.disk_gb,
        pci_devices=usage.pci_devices | addresses,
        numa_cells=tuple(cells.values()),
        instances=usage.instances + 1,
    )


def subtract_claim(usage: HostUsage, claim: Claim) -> HostUsage:
    """Usage with `claim` released; ValueError when the usage does not hold all of it."""
    missing = claim.pci_addresses - usage.pci_devices
    if missing:
        raise ValueError(f"PCI devices not in use: {sorted(missing)}")
    amounts = (
        usage.vcpus - claim.vcpus,
        usage.memory_mb - claim.memory_mb,
        usage.disk_gb - claim.disk_gb,
        usage.instances - 1,
    )
    if min(amounts) < 0:
        raise ValueError("claim is larger than the usage it is released from")
    cells = {cell.cell_id: cell for cell in usage.numa_cells}
    for part in claim.numa_cells:
        cell = cells.get(part.host_cell, NumaCellUsage(cell_id=part.host_cell))
        if not part.pinned_cpus <= cell.pinned_cpus or part.memory_mb > cell.memory_mb:
            raise ValueError(f"claim on NUMA cell {part.host_cell} is not in the usage")
        cells[part.host_cell] = NumaCellUsage(
            cell_id=part.host_cell,
            pinned_cpus=cell.pinned_cpus - part.pinned_cpus,
            memory_mb=cell.memory_mb - part.memory_mb,
        )
    return HostUsage(
        vcpus=amounts[0],
        memory_mb=amounts[1],
        disk_gb=amounts[2],
        pci_devices=usage.pci_devices - claim.pci_addresses,
        numa_cells=tuple(cells.values()),
        instances=amounts[3],
    )


def sum_claims(claims: Iterable[Claim], start: HostUsage = EMPTY_USAGE) -> HostUsage:
    """The usage of a host holding `claims` (the conductor's sum of allocations)."""
    usage = start
    for claim in claims:
        usage = add_claim(usage, claim)
    return usage
