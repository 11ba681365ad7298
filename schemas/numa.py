"""NUMA topology: host cells and guest topology requests."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.base import Model
from schemas.types import NonNegInt, PositiveInt


class CpuPolicy(StrEnum):
    """hw:cpu_policy. Dedicated vCPUs are pinned to host CPUs of the guest's cells."""

    SHARED = "shared"
    DEDICATED = "dedicated"


class NumaCell(Model):
    """A host NUMA cell: the host CPUs guests may be pinned to, and its memory.

    Which CPUs are pinned at a moment is usage, not inventory: see placement.NumaCellUsage.
    """

    id: NonNegInt
    socket: NonNegInt | None = None
    cpus: frozenset[NonNegInt] = frozenset()
    memory_mb: NonNegInt = 0


class NumaCellRequest(Model):
    """One guest NUMA cell."""

    cpus: PositiveInt
    memory_mb: PositiveInt


class NumaRequest(Model):
    """A guest NUMA topology: each guest cell is placed on a distinct host cell."""

    cells: Annotated[tuple[NumaCellRequest, ...], Field(min_length=1, max_length=16)]
    cpu_policy: CpuPolicy = CpuPolicy.SHARED

    @property
    def vcpus(self) -> int:
        return sum(cell.cpus for cell in self.cells)

    @property
    def memory_mb(self) -> int:
        return sum(cell.memory_mb for cell in self.cells)

    @classmethod
    def split(
        cls,
        vcpus: int,
        memory_mb: int,
        nodes: int = 1,
        cpu_policy: CpuPolicy = CpuPolicy.SHARED,
    ) -> NumaRequest:
        """Nova's symmetric split for hw:numa_nodes=N: vCPUs and memory divided evenly."""
        if nodes < 1 or vcpus % nodes or memory_mb % nodes:
            raise ValueError(
                f"{vcpus} vcpus and {memory_mb} MB cannot be split evenly over {nodes} NUMA nodes"
            )
        cell = NumaCellRequest(cpus=vcpus // nodes, memory_mb=memory_mb // nodes)
        return cls(cells=(cell,) * nodes, cpu_policy=cpu_policy)


def check_cells(cells: tuple[NumaCell, ...]) -> None:
    """Raise ValueError when cell ids repeat or two cells share a CPU."""
    ids = [cell.id for cell in cells]
    if len(ids) != len(set(ids)):
        raise ValueError("NUMA cell ids must be unique")
    seen: set[int] = set()
    for cell in cells:
        if seen & cell.cpus:
            raise ValueError(f"NUMA cell {cell.id} shares CPUs with another cell")
        seen |= cell.cpus
