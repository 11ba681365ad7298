"""Hard affinity (Nova's ServerGroupAffinityFilter)."""

from __future__ import annotations

import numpy as np

from scheduler.filters import PASS, Verdict, reject
from scheduler.filters.server_group import group_with
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.server_group import ServerGroupPolicy


class ServerGroupAffinityFilter:
    """Every member on one host: once a member is placed, only its host qualifies."""

    name = "server_group_affinity"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        group = group_with(spec, ServerGroupPolicy.AFFINITY)
        if group is None or not group.member_hosts or host.name in group.member_hosts:
            return PASS
        hosts = ", ".join(sorted(set(group.member_hosts)))
        return reject(f"server group {group.group_id} (affinity) is on {hosts}")

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        group = group_with(spec, ServerGroupPolicy.AFFINITY)
        if group is None or not group.member_hosts:
            return rows
        return np.intersect1d(rows, index.rows_named(group.member_hosts))
