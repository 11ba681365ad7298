"""The instance fits what is free on the host: vCPUs, memory and disk as
(total - reserved) x allocation ratio, PCI devices and NUMA cells (`schemas.fit`, the
arithmetic the conductor re-checks the plan with)."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_state import HostState
from schemas.fit import fit
from schemas.messages.scheduler import RequestSpec


class ResourcesFilter:
    name = "resources"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        result = fit(host.inventory, host.usage, spec.resources)
        return PASS if result else reject(result.reason)
