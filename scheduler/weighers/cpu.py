"""Free shared vCPUs: (total - reserved) x cpu ratio - used. Spreads by default
(Nova's CPUWeigher); a negative multiplier packs."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values
from schemas.messages.scheduler import RequestSpec
from schemas.usage import free


class CpuWeigher:
    name = "cpu"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(free(host.inventory, host.usage).vcpus)

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        return index.column("free_vcpus")[rows].astype(float)
