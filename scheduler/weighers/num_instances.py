"""Instances on the host (Nova's NumInstancesWeigher). Multiplier 0 by default; a
positive one packs instances onto busy hosts, a negative one spreads them."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values
from schemas.messages.scheduler import RequestSpec


class NumInstancesWeigher:
    name = "num_instances"

    def __init__(self, multiplier: float = 0.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(host.usage.instances)

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        return index.column("instances")[rows].astype(float)
