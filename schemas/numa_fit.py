"""Whether a guest NUMA topology (with its PCI devices) has a placement on a host's free
cells, without building the claim: the same rules as `schemas.fit_numa.assignments`
(each guest cell on a distinct host cell with enough free memory and, when dedicated,
enough unpinned CPUs) and `schemas.fit.fit` (a placement whose cells the devices' NUMA
affinity policies accept; `preferred` devices may be remote when no placement has them
local), answered on counts and sets, so a scheduler can test thousands of hosts per
decision. The claim itself (which CPUs and devices) is still made by `schemas.fit.fit`
for the chosen host.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.fit_numa import FreeCell
from schemas.numa import CpuPolicy, NumaRequest
from schemas.pci import PciNumaAffinity, PciRequest
from schemas.pci_fit import PciFree


def numa_feasible(cells: Sequence[FreeCell], request: NumaRequest) -> bool:
    """True when `assignments(cells, request)` would yield at least one placement."""
    guests = request.cells
    if len(guests) > len(cells):
        return False
    dedicated = request.cpu_policy is CpuPolicy.DEDICATED
    free = [(len(cell.free_cpus) if dedicated else 0, cell.free_memory_mb) for cell in cells]
    wanted = [(guest.cpus if dedicated else 0, guest.memory_mb) for guest in guests]
    used = [False] * len(free)

    def place(index: int) -> bool:
        if index == len(wanted):
            return True
        cpus, memory = wanted[index]
        for position, (free_cpus, free_memory) in enumerate(free):
            if used[position] or cpus > free_cpus or memory > free_memory:
                continue
            used[position] = True
            if place(index + 1):
                return True
            used[position] = False
        return False

    return place(0)


def cell_sets(cells: Sequence[FreeCell], request: NumaRequest) -> set[frozenset[int]]:
    """The sets of host cells some placement of the guest uses (the devices' affinity
    depends on the set, not on which guest cell went where)."""
    dedicated = request.cpu_policy is CpuPolicy.DEDICATED
    free = [
        (cell.id, len(cell.free_cpus) if dedicated else 0, cell.free_memory_mb) for cell in cells
    ]
    wanted = [(guest.cpus if dedicated else 0, guest.memory_mb) for guest in request.cells]
    found: set[frozenset[int]] = set()
    chosen: list[int] = []

    def place(index: int) -> None:
        if index == len(wanted):
            found.add(frozenset(chosen))
            return
        cpus, memory = wanted[index]
        for cell_id, free_cpus, free_memory in free:
            if cell_id in chosen or cpus > free_cpus or memory > free_memory:
                continue
            chosen.append(cell_id)
            place(index + 1)
            chosen.pop()

    if len(wanted) <= len(free):
        place(0)
    return found


def topology_feasible(
    cells: Sequence[FreeCell],
    request: NumaRequest,
    pci: Sequence[PciRequest],
    devices: PciFree,
) -> bool:
    """True when `fit` would find a NUMA placement and devices for `pci` near it."""
    if not pci:
        return numa_feasible(cells, request)
    sets = cell_sets(cells, request)
    passes = [False]
    if any(r.numa_policy is PciNumaAffinity.PREFERRED for r in pci):
        passes.append(True)
    return any(devices.can_take(pci, chosen, relax) for relax in passes for chosen in sets)
