"""The host is in the availability zone the request asks for (any when none)."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class AvailabilityZoneFilter:
    name = "availability_zone"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        wanted = spec.availability_zone
        if wanted is None or host.host.availability_zone == wanted:
            return PASS
        return reject(f"in zone {host.host.availability_zone}, not {wanted}")
