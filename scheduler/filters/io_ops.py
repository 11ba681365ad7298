"""At most `max_io_ops_per_host` instances with a task in flight (build, resize,
migration, snapshot) on the host (Nova's IoOpsFilter): a host busy building is not given
more builds. Off by default, as in Nova; the io_ops weigher prefers idle hosts anyway."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class IoOpsFilter:
    name = "io_ops"

    def __init__(self, max_io_ops_per_host: int = 8) -> None:
        self.limit = max_io_ops_per_host

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        busy = host.facts.io_ops
        if busy < self.limit:
            return PASS
        return reject(f"{busy} IO operations in flight, at most {self.limit} allowed")

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        return rows[index.column("io_ops")[rows] < self.limit]
