"""At most `max_instances_per_host` instances on the host (Nova's NumInstancesFilter),
whatever room is left: a cap on the blast radius of one host failing. Off by default."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class NumInstancesFilter:
    name = "num_instances"

    def __init__(self, max_instances_per_host: int = 50) -> None:
        self.limit = max_instances_per_host

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        count = host.usage.instances
        if count < self.limit:
            return PASS
        return reject(f"holds {count} instances, at most {self.limit} allowed")

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        return rows[index.column("instances")[rows] < self.limit]
