"""Filter then weigh a host view for one instance, recording how many hosts each filter
removed, why (the first filter that refused a host, with its reason) and what each
weigher contributed to the score of each host that passed.

Two forms that choose from the same hosts in the same order: `select` runs the batch
forms over a `HostIndex` (what a decision uses), `run` the per-host forms over host
states (tests, and the reference the batch form is checked against); `why` asks the
per-host forms about one host (explanations).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np

from scheduler.filters import Filter
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values, Weigher, normalise, normalise_column
from schemas.messages.scheduler import RequestSpec

SAMPLE = 20  # hosts whose reasons `select` records when the last hosts are removed


@dataclass(frozen=True)
class Ranked:
    host: HostState
    score: float
    contributions: dict[str, float]  # weigher name -> normalised value x multiplier


@dataclass(frozen=True)
class Exclusion:
    filter: str
    reason: str


class RankedRows(Sequence[Ranked]):
    """The passing rows of an index, best first, made into `Ranked` only when read (a
    decision reads the first few of thousands)."""

    def __init__(
        self, index: HostIndex, rows: Rows, scores: Values, shares: Mapping[str, Values]
    ) -> None:
        self._index = index
        self._order = np.lexsort((rows, -scores)) if len(rows) else rows
        self._rows = rows
        self._scores = scores
        self._shares = shares

    def __len__(self) -> int:
        return len(self._rows)

    def _at(self, position: int) -> Ranked:
        i = int(self._order[position])
        return Ranked(
            self._index.states[int(self._rows[i])],
            float(self._scores[i]),
            {name: float(values[i]) for name, values in self._shares.items()},
        )

    @overload
    def __getitem__(self, position: int) -> Ranked: ...

    @overload
    def __getitem__(self, position: slice) -> list[Ranked]: ...

    def __getitem__(self, position: int | slice) -> Ranked | list[Ranked]:
        if isinstance(position, slice):
            return [self._at(i) for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return self._at(position)

    def __iter__(self) -> Iterator[Ranked]:
        return (self._at(i) for i in range(len(self)))

    def position(self, row: int) -> int | None:
        """Where host `row` of the index ranks, None when it did not pass."""
        found = np.flatnonzero(self._rows[self._order] == row)
        return int(found[0]) if len(found) else None


@dataclass
class Outcome:
    considered: int
    ranked: Sequence[Ranked] = ()
    # host name -> why; every excluded host for `run`, for `select` only (up to SAMPLE
    # of) the hosts the last filter removed
    excluded: dict[str, Exclusion] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)  # filter -> hosts it removed
    last_filter: str | None = None  # the filter that removed the last hosts

    def explain(self) -> str:
        """Why no host (or how many) passed, for NoValidHost and logs."""
        if self.considered == 0:
            return "no compute host is up"
        counts = ", ".join(f"{name}: {n}" for name, n in self.removed.items() if n)
        text = f"{self.considered} host(s) considered, {len(self.ranked)} passed"
        if self.last_filter is not None:
            last = [
                f"{host}: {why.reason}"
                for host, why in self.excluded.items()
                if why.filter == self.last_filter
            ]
            n = self.removed[self.last_filter]
            more = "; ..." if n > 3 else ""
            text += (
                f"; filter '{self.last_filter}' removed the last {n} ({'; '.join(last[:3])}{more})"
            )
        return f"{text}; hosts removed per filter: {counts or 'none'}"


class Pipeline:
    def __init__(self, filters: Sequence[Filter], weighers: Sequence[Weigher]) -> None:
        self.filters = list(filters)
        self.weighers = list(weighers)

    def select(self, index: HostIndex, spec: RequestSpec) -> Outcome:
        """The hosts of `index` that pass every filter, best first (ties by name)."""
        outcome = Outcome(considered=len(index))
        rows = index.all_rows
        for flt in self.filters:
            kept = flt.passing(index, spec, rows) if len(rows) else rows
            outcome.removed[flt.name] = len(rows) - len(kept)
            if len(rows) and not len(kept):
                outcome.last_filter = flt.name
                for host in index.hosts(rows[:SAMPLE]):
                    outcome.excluded[host.name] = Exclusion(
                        flt.name, flt.host_passes(host, spec).reason
                    )
            rows = kept
        shares = {}
        scores = np.zeros(len(rows), dtype=np.float64)
        for weigher in self.weighers:
            if len(rows):
                values = normalise_column(weigher.column(index, spec, rows)) * weigher.multiplier
            else:
                values = scores.copy()
            shares[weigher.name] = values
            scores += values
        outcome.ranked = RankedRows(index, rows, scores, shares)
        return outcome

    def run(self, hosts: Sequence[HostState], spec: RequestSpec) -> Outcome:
        """`select` host by host, with the reason of every host removed."""
        outcome = Outcome(considered=len(hosts))
        passing = list(hosts)
        for flt in self.filters:
            kept = []
            for host in passing:
                verdict = flt.host_passes(host, spec)
                if verdict:
                    kept.append(host)
                else:
                    outcome.excluded[host.name] = Exclusion(flt.name, verdict.reason)
            outcome.removed[flt.name] = len(passing) - len(kept)
            if passing and not kept:
                outcome.last_filter = flt.name
            passing = kept
        outcome.ranked = self.weigh(passing, spec)
        return outcome

    def why(self, host: HostState, spec: RequestSpec) -> Exclusion | None:
        """The first filter that refuses `host`, with its reason; None when all pass."""
        for flt in self.filters:
            verdict = flt.host_passes(host, spec)
            if not verdict:
                return Exclusion(flt.name, verdict.reason)
        return None

    def weigh(self, hosts: Sequence[HostState], spec: RequestSpec) -> list[Ranked]:
        contributions: list[dict[str, float]] = [{} for _ in hosts]
        for weigher in self.weighers:
            values = normalise([weigher.weigh(host, spec) for host in hosts])
            for share, value in zip(contributions, values, strict=True):
                share[weigher.name] = value * weigher.multiplier
        ranked = [
            Ranked(host, sum(share.values()), share)
            for host, share in zip(hosts, contributions, strict=True)
        ]
        ranked.sort(key=lambda r: (-r.score, r.host.name))
        return ranked
