"""The host runs a compute agent that is up and enabled (Nova's ComputeFilter)."""

from __future__ import annotations

from collections.abc import Hashable

from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.placement import HostRole
from schemas.placement import HostState as Liveness


def _key(host: HostState) -> Hashable:
    h = host.host
    return HostRole.COMPUTE in h.roles, h.state, h.disabled, h.disabled_reason


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

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        return by_group(self, index, spec, rows, _key)
