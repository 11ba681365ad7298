"""vCPUs, memory and disk fit what is free on the host: (total - reserved) x allocation
ratio - used, with the ratios and reserved amounts of the host's aggregates applied
(`HostState.inventory`), and no more than the host's total for one instance. Dedicated
(pinned) vCPUs are not counted here: the NUMA topology filter places them.

The per-host form is `schemas.fit` itself (the arithmetic the conductor re-checks the
plan with); the batch form compares the index's free and total columns.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from scheduler.filters import PASS, Verdict, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.claims import ResourceRequest
from schemas.fit import fit
from schemas.messages.scheduler import RequestSpec


@lru_cache(maxsize=256)
def _amounts(vcpus: int, memory_mb: int, disk_gb: int) -> ResourceRequest:
    return ResourceRequest(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)


def amounts(spec: RequestSpec) -> ResourceRequest:
    """The request without its PCI devices and NUMA topology (shared vCPUs only)."""
    r = spec.resources
    return _amounts(r.shared_vcpus, r.memory_mb, r.disk_gb)


class ResourcesFilter:
    name = "resources"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        result = fit(host.inventory, host.usage, amounts(spec))
        return PASS if result else reject(result.reason)

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        wanted = amounts(spec)
        ok: np.ndarray | None = None
        for amount, kind in (
            (wanted.vcpus, "vcpus"),
            (wanted.memory_mb, "ram"),
            (wanted.disk_gb, "disk"),
        ):
            if amount <= 0:
                continue
            here = (index.column(f"free_{kind}")[rows] >= amount) & (
                index.column(f"max_{kind}")[rows] >= amount
            )
            ok = here if ok is None else ok & here
        return rows if ok is None else rows[ok]
