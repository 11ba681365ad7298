"""The host runs a compute agent that is up and enabled."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.placement import HostRole
from schemas.placement import HostState as Liveness


class ComputeFilter:
    name = "compute"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        if HostRole.COMPUTE not in host.host.roles:
            return reject("not a compute host")
        if host.host.state is not Liveness.UP:
            return reject("the compute agent is down")
        if host.host.disabled:
            reason = host.host.disabled_reason
            return reject(f"disabled ({reason})" if reason else "disabled")
        return PASS
