"""Free memory: (total - reserved) x ram ratio - used. Spreads by default (Nova's
RAMWeigher); a negative multiplier packs."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values
from schemas.messages.scheduler import RequestSpec
from schemas.usage import free


class RamWeigher:
    name = "ram"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(free(host.inventory, host.usage).memory_mb)

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        return index.column("free_ram")[rows].astype(float)
