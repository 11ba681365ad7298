"""Filters: one per module, pure and synchronous. A filter says whether a host may take
one instance of a request: `PASS`, or a `Verdict` with the reason it may not.

Each filter has two forms that must agree: `host_passes` for one host (explanations,
tests) and `passing`, the batch form over rows of a `HostIndex` that returns the rows
that pass. The helpers below give the batch form for the two common shapes: a filter
that depends only on attributes many hosts share (evaluated once per group), and one
that must look at each host (evaluated per row, on the rows an index left).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.passed


PASS = Verdict(True)


def reject(reason: str) -> Verdict:
    return Verdict(False, reason)


class Filter(Protocol):
    name: str

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict: ...

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows: ...


def by_group(
    flt: Filter,
    index: HostIndex,
    spec: RequestSpec,
    rows: Rows,
    key: Callable[[HostState], Hashable],
) -> Rows:
    """The rows that pass `flt`, asked once per group of hosts with the same `key`
    (which must hold everything `flt.host_passes` reads of a host)."""
    groups = index.groups(flt.name, key)
    ok = np.fromiter(
        (bool(flt.host_passes(index.states[rep], spec)) for rep in groups.representatives),
        dtype=bool,
        count=len(groups.representatives),
    )
    if ok.all():
        return rows
    return rows[ok[groups.of_row[rows]]]


def by_host(
    index: HostIndex, spec: RequestSpec, rows: Rows, ok: Callable[[HostState, RequestSpec], bool]
) -> Rows:
    """The rows whose host is `ok`, asked host by host (`ok` must agree with the
    filter's `host_passes`; it may skip working out the reason)."""
    states = index.states
    keep = [row for row in rows.tolist() if ok(states[row], spec)]
    return np.array(keep, dtype=np.intp)
