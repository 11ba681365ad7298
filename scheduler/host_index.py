"""The host view as columns, so a decision does not build or visit a Python object per
host: numpy arrays of free and total amounts, instance counts and work in flight, one row
per host in name order, plus indexes a filter can answer from directly:

- rows by name (forced, ignored and server-group hosts),
- rows with NUMA cells and rows with PCI devices (topology requests look only there),
- groups of hosts sharing the attributes a filter depends on (zone, aggregates, traits,
  hypervisor, ...): a filter that depends on nothing else is evaluated once per group,
  not once per host. Groups only change on refresh, so they are built once per view.

Columns hold upper bounds too (the free dedicated CPUs and memory of a host's largest
NUMA cell): a topology filter skips hosts whose bounds are too small before it searches.

A claim replaces one host's state and updates its row (`replace`); a plan works on a
`copy` so an unapplied plan never leaks into the cached view.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scheduler.host_state import HostState
from schemas.usage import free

Rows = npt.NDArray[np.intp]
Column = npt.NDArray[np.int64]

_COLUMNS = (
    "free_vcpus",
    "free_ram",
    "free_disk",
    "max_vcpus",
    "max_ram",
    "max_disk",
    "instances",
    "io_ops",
    "failed_builds",
    "free_pci",
    "numa_max_cpus",  # the most unpinned dedicated CPUs of any one cell
    "numa_max_mem",  # the most free memory of any one cell
    "numa_free_cpus",  # unpinned dedicated CPUs of all cells
    "numa_free_mem",  # free memory of all cells
)


@dataclass(frozen=True)
class Groups:
    """Hosts grouped by a key: each row's group, and one representative row per group."""

    of_row: Rows
    representatives: tuple[int, ...]


def _values(state: HostState) -> tuple[int, ...]:
    if state.row is None:
        state.remember_row(_row(state))
    assert state.row is not None
    return state.row


def _row(state: HostState) -> tuple[int, ...]:
    inv, usage = state.inventory, state.usage
    left = free(inv, usage)
    free_pci = sum(state.pci_free.free_by_kind.values()) if inv.pci_devices else 0
    cells = state.free_cells if inv.numa_cells else []
    cpus = [len(cell.free_cpus) for cell in cells] or [0]
    memory = [cell.free_memory_mb for cell in cells] or [0]
    return (
        left.vcpus,
        left.memory_mb,
        left.disk_gb,
        inv.vcpus,
        inv.memory_mb,
        inv.disk_gb,
        usage.instances,
        state.facts.io_ops,
        state.facts.failed_builds,
        free_pci,
        max(cpus),
        max(memory),
        sum(cpus),
        sum(memory),
    )


class HostIndex:
    def __init__(self, states: Iterable[HostState]) -> None:
        self.states: list[HostState] = sorted(states, key=lambda s: s.name)
        self.by_name: dict[str, int] = {s.name: row for row, s in enumerate(self.states)}
        table = np.array([_values(s) for s in self.states], dtype=np.int64).reshape(
            len(self.states), len(_COLUMNS)
        )
        self.columns: dict[str, Column] = {
            name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(_COLUMNS)
        }
        self.all_rows: Rows = np.arange(len(self.states), dtype=np.intp)
        self.numa_rows: Rows = self._rows(lambda s: bool(s.inventory.numa_cells))
        self.pci_rows: Rows = self._rows(lambda s: bool(s.inventory.pci_devices))
        self._groups: dict[str, Groups] = {}

    def __len__(self) -> int:
        return len(self.states)

    def _rows(self, keep: Callable[[HostState], bool]) -> Rows:
        return np.array([r for r, s in enumerate(self.states) if keep(s)], dtype=np.intp)

    def column(self, name: str) -> Column:
        return self.columns[name]

    def groups(self, name: str, key: Callable[[HostState], Hashable]) -> Groups:
        """Hosts grouped by `key` (cached under `name` for the life of this view)."""
        found = self._groups.get(name)
        if found is None:
            ids: dict[Hashable, int] = {}
            reps: list[int] = []
            of_row = np.empty(len(self.states), dtype=np.intp)
            for row, state in enumerate(self.states):
                value = key(state)
                group = ids.get(value)
                if group is None:
                    group = ids[value] = len(reps)
                    reps.append(row)
                of_row[row] = group
            found = self._groups[name] = Groups(of_row, tuple(reps))
        return found

    def rows_named(self, names: Iterable[str]) -> Rows:
        rows = sorted({self.by_name[n] for n in names if n in self.by_name})
        return np.array(rows, dtype=np.intp)

    def replace(self, row: int, state: HostState) -> None:
        """Host `row` is now `state` (same host, e.g. after a claim)."""
        self.states[row] = state
        for name, value in zip(_COLUMNS, _values(state), strict=True):
            self.columns[name][row] = value

    def copy(self) -> HostIndex:
        """A working copy for one plan: its own rows and columns, the same groups."""
        clone = HostIndex.__new__(HostIndex)
        clone.states = list(self.states)
        clone.by_name = self.by_name
        clone.columns = {name: column.copy() for name, column in self.columns.items()}
        clone.all_rows = self.all_rows
        clone.numa_rows = self.numa_rows
        clone.pci_rows = self.pci_rows
        clone._groups = self._groups
        return clone

    def hosts(self, rows: Sequence[int] | Rows) -> list[HostState]:
        return [self.states[int(row)] for row in rows]
