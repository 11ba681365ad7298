"""Hosts set aside for some projects (Nova's AggregateMultiTenancyIsolation): a host in
an aggregate whose metadata has `filter_tenant_id` (one project id, or several separated
by commas; also `filter_tenant_id_2`, ... as Nova allows) takes only those projects'
instances. Hosts in no such aggregate take anyone's. Off by default."""

from __future__ import annotations

from collections.abc import Hashable

from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec

KEY = "filter_tenant_id"


def allowed_projects(host: HostState) -> frozenset[str]:
    """The projects the host's aggregates set it aside for (empty: anyone's)."""
    found: set[str] = set()
    for meta in host.facts.aggregate_metadata.values():
        for key, value in meta.items():
            if key == KEY or key.startswith(f"{KEY}_"):
                found.update(part.strip() for part in value.split(",") if part.strip())
    return frozenset(found)


def _key(host: HostState) -> Hashable:
    return allowed_projects(host)


class TenantIsolationFilter:
    name = "tenant_isolation"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        allowed = allowed_projects(host)
        if not allowed or str(spec.project_id) in allowed:
            return PASS
        return reject(f"set aside for other projects ({len(allowed)} allowed)")

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        return by_group(self, index, spec, rows, _key)
