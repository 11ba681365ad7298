"""Hosts the request names: `ignore_hosts` (e.g. where a build already failed) are
skipped; with `force_host` only that host is considered."""

from __future__ import annotations

import numpy as np

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class HostsFilter:
    name = "hosts"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        if host.name in spec.ignore_hosts:
            return reject("ignored by the request (an earlier attempt failed there)")
        if spec.force_host is not None and host.name != spec.force_host:
            return reject(f"the request is forced to host {spec.force_host}")
        return PASS

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        if spec.force_host is not None:
            rows = np.intersect1d(rows, index.rows_named([spec.force_host]))
        if spec.ignore_hosts:
            rows = np.setdiff1d(rows, index.rows_named(spec.ignore_hosts), assume_unique=True)
        return rows
