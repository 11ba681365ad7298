"""Soft affinity: members of the request's soft-affinity server group already on the
host (Nova's ServerGroupSoftAffinityWeigher); multiplier 1 by default, so members
gather where they can without ever failing a request."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values, members_column, members_on
from schemas.messages.scheduler import RequestSpec
from schemas.server_group import ServerGroupPolicy

_POLICY = ServerGroupPolicy.SOFT_AFFINITY


class SoftAffinityWeigher:
    name = "soft_affinity"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(members_on(host.name, spec, _POLICY))

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        return members_column(index, spec, rows, _POLICY)
