"""IO operations in flight: instances with a build, resize, migration or snapshot
running on the host. Multiplier -1 by default (Nova's IoOpsWeigher): busy hosts sink."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values
from schemas.messages.scheduler import RequestSpec


class IoOpsWeigher:
    name = "io_ops"

    def __init__(self, multiplier: float = -1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(host.facts.io_ops)

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        return index.column("io_ops")[rows].astype(float)
