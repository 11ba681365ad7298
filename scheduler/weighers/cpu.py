"""Free shared vCPUs: (total - reserved) x cpu ratio - used. Spreads by default."""

from __future__ import annotations

from scheduler.host_state import HostState
from schemas.fit import free
from schemas.messages.scheduler import RequestSpec


class CpuWeigher:
    name = "cpu"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(free(host.inventory, host.usage).vcpus)
