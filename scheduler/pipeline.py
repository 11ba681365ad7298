"""Filter then weigh a host view for one instance, recording why each host was dropped
(the first filter that refused it, with its reason) and what each weigher contributed
to the score of each host that passed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.filters import Filter
from scheduler.host_state import HostState
from scheduler.weighers import Weigher, normalise
from schemas.messages.scheduler import RequestSpec


@dataclass(frozen=True)
class Ranked:
    host: HostState
    score: float
    contributions: dict[str, float]  # weigher name -> normalised value x multiplier


@dataclass(frozen=True)
class Exclusion:
    filter: str
    reason: str


@dataclass
class Outcome:
    considered: int
    ranked: list[Ranked] = field(default_factory=list)
    excluded: dict[str, Exclusion] = field(default_factory=dict)  # host name -> why
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
            text += (
                f"; filter '{self.last_filter}' removed the last {len(last)} "
                f"({'; '.join(last[:3])}{'; ...' if len(last) > 3 else ''})"
            )
        return f"{text}; hosts removed per filter: {counts or 'none'}"


class Pipeline:
    def __init__(self, filters: Sequence[Filter], weighers: Sequence[Weigher]) -> None:
        self.filters = list(filters)
        self.weighers = list(weighers)

    def run(self, hosts: Sequence[HostState], spec: RequestSpec) -> Outcome:
        """The hosts that pass every filter, best first (ties by name)."""
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
