"""Placing a guest NUMA topology on a host's cells, pinning CPUs for dedicated guests.

Each guest cell goes to a distinct host cell with enough free memory and, for a dedicated
CPU policy, enough unpinned CPUs (the lowest-numbered free ones are pinned). A shared
policy checks memory per cell only: its vCPUs float and count in the shared pool.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from schemas.claims import NumaCellClaim
from schemas.numa import CpuPolicy, NumaCell, NumaCellRequest, NumaRequest
from schemas.placement import HostUsage


@dataclass(frozen=True, slots=True)
class FreeCell:
    id: int
    free_cpus: tuple[int, ...]
    free_memory_mb: int


def free_cells(cells: Sequence[NumaCell], usage: HostUsage) -> list[FreeCell]:
    taken = {cell.cell_id: cell for cell in usage.numa_cells}
    result = []
    for cell in cells:
        used = taken.get(cell.id)
        pinned = used.pinned_cpus if used is not None else frozenset()
        memory = used.memory_mb if used is not None else 0
        result.append(FreeCell(cell.id, tuple(sorted(cell.cpus - pinned)), cell.memory_mb - memory))
    return result


def _fits(cell: FreeCell, guest: NumaCellRequest, dedicated: bool) -> bool:
    if guest.memory_mb > cell.free_memory_mb:
        return False
    return not dedicated or guest.cpus <= len(cell.free_cpus)


def assignments(
    cells: Sequence[FreeCell],
    request: NumaRequest,
) -> Iterator[tuple[NumaCellClaim, ...]]:
    """Every placement of the guest cells on distinct host cells, in host-cell order."""
    dedicated = request.cpu_policy is CpuPolicy.DEDICATED
    guests = request.cells
    chosen: list[NumaCellClaim] = []
    used: set[int] = set()

    def place(index: int) -> Iterator[tuple[NumaCellClaim, ...]]:
        if index == len(guests):
            yield tuple(chosen)
            return
        guest = guests[index]
        for cell in cells:
            if cell.id in used or not _fits(cell, guest, dedicated):
                continue
            pinned = frozenset(cell.free_cpus[: guest.cpus]) if dedicated else frozenset()
            chosen.append(
                NumaCellClaim(
                    guest_cell=index,
                    host_cell=cell.id,
                    cpus=guest.cpus,
                    pinned_cpus=pinned,
                    memory_mb=guest.memory_mb,
                )
            )
            used.add(cell.id)
            yield from place(index + 1)
            used.discard(cell.id)
            chosen.pop()

    yield from place(0)


def shortage(cells: Sequence[FreeCell], request: NumaRequest) -> str:
    """Why no placement exists, with the free CPUs and memory of every host cell."""
    dedicated = request.cpu_policy is CpuPolicy.DEDICATED
    if len(request.cells) > len(cells):
        return f"numa: guest needs {len(request.cells)} NUMA cells, host has {len(cells)}"
    free = "; ".join(
        f"cell {cell.id}: {len(cell.free_cpus)} free cpus, {cell.free_memory_mb} MB"
        for cell in cells
    )
    wanted = ", ".join(f"{guest.cpus} cpus/{guest.memory_mb} MB" for guest in request.cells)
    kind = "dedicated" if dedicated else "shared"
    return f"numa: no placement for guest cells [{wanted}] ({kind} cpus); {free}"
