"""Builds that failed on the host recently, negated, with multiplier 1e6 (Nova's
BuildFailureWeigher): a host that keeps failing builds sinks below every healthy one
whatever the other weighers say, until a build succeeds there again."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values
from schemas.messages.scheduler import RequestSpec


class BuildFailureWeigher:
    name = "build_failure"

    def __init__(self, multiplier: float = 1e6) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return -float(host.facts.failed_builds)

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        return -index.column("failed_builds")[rows].astype(float)
