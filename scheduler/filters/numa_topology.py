"""The guest's NUMA topology has a placement on the host's free cells (Nova's
NUMATopologyFilter): each guest cell on a distinct host cell with its memory free and,
for `hw:cpu_policy=dedicated`, enough unpinned CPUs; with PCI devices, a placement whose
cells satisfy each device's NUMA affinity policy (required, preferred, legacy, socket).

The answer comes from counts and sets (`schemas.numa_fit`, the answer `schemas.fit.fit`
would give); the reason of a refusal from `schemas.fit` itself. The batch form looks
only at the hosts the index lists as having NUMA cells, and skips those whose largest
cell or whose cells together are too small before searching for a placement.
"""

from __future__ import annotations

import numpy as np

from scheduler.filters import PASS, Verdict, by_host, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.fit import fit
from schemas.fit_numa import shortage
from schemas.messages.scheduler import RequestSpec
from schemas.numa import CpuPolicy
from schemas.numa_fit import topology_feasible


def _ok(host: HostState, spec: RequestSpec) -> bool:
    request = spec.resources
    assert request.numa is not None
    return bool(host.inventory.numa_cells) and topology_feasible(
        host.free_cells, request.numa, request.pci, host.pci_free
    )


class NumaTopologyFilter:
    name = "numa_topology"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        request = spec.resources
        if request.numa is None:
            return PASS
        if not host.inventory.numa_cells:
            return reject("numa: the host reports no NUMA topology")
        if _ok(host, spec):
            return PASS
        if not request.pci:
            return reject(shortage(host.free_cells, request.numa))
        result = fit(host.inventory, host.usage, request)  # for the reason
        return PASS if result else reject(result.reason)

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        numa = spec.resources.numa
        if numa is None:
            return rows
        rows = np.intersect1d(rows, index.numa_rows)
        dedicated = numa.cpu_policy is CpuPolicy.DEDICATED
        cpus = [cell.cpus if dedicated else 0 for cell in numa.cells]
        memory = [cell.memory_mb for cell in numa.cells]
        bounds = (
            (index.column("numa_max_cpus")[rows] >= max(cpus))
            & (index.column("numa_max_mem")[rows] >= max(memory))
            & (index.column("numa_free_cpus")[rows] >= sum(cpus))
            & (index.column("numa_free_mem")[rows] >= sum(memory))
        )
        return by_host(index, spec, rows[bounds], _ok)
