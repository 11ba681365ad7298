"""The host is in the availability zone the request asks for (any when none)."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class AvailabilityZoneFilter:
    name = "availability_zone"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        wanted = spec.availability_zone
        if wanted is None or host.host.availability_zone == wanted:
            return PASS
        return reject(f"in zone {host.host.availability_zone}, not {wanted}")

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        if spec.availability_zone is None:
            return rows
        return by_group(self, index, spec, rows, lambda h: h.host.availability_zone)
