"""Hard anti-affinity with max_server_per_host (Nova's ServerGroupAntiAffinityFilter)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from scheduler.filters import PASS, Verdict, reject
from scheduler.filters.server_group import group_with
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.server_group import ServerGroupPolicy


class ServerGroupAntiAffinityFilter:
    """Members on distinct hosts: at most `max_server_per_host` (default 1) per host."""

    name = "server_group_anti_affinity"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        group = group_with(spec, ServerGroupPolicy.ANTI_AFFINITY)
        if group is None:
            return PASS
        limit = group.rules.max_server_per_host or 1
        members = group.member_hosts.count(host.name)
        if members < limit:
            return PASS
        return reject(
            f"holds {members} member(s) of server group {group.group_id} "
            f"(anti-affinity, at most {limit} per host)"
        )

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        group = group_with(spec, ServerGroupPolicy.ANTI_AFFINITY)
        if group is None or not group.member_hosts:
            return rows
        limit = group.rules.max_server_per_host or 1
        full = [name for name, n in Counter(group.member_hosts).items() if n >= limit]
        return np.setdiff1d(rows, index.rows_named(full), assume_unique=True)
