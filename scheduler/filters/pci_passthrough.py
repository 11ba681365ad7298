"""The host has free PCI devices for every PCI request (Nova's PciPassthroughFilter):
by alias (vendor/product, count) or by port (a VF for `direct`, a whole PF for
`direct-physical`, on the port's physical network). VFs are counted per PF, and a PF
with a VF in use cannot be given whole, nor a VF of a PF given whole
(`schemas.pci_fit`, the answer `schemas.fit_pci.PciPool` would give, which the
conductor re-checks with and which words the reason). NUMA affinity of the devices is
the NUMA topology filter's concern.

The batch form looks only at the hosts the index lists as having PCI devices, and of
those only at hosts with at least as many free devices as the request asks for.
"""

from __future__ import annotations

import numpy as np

from scheduler.filters import PASS, Verdict, by_host, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


def _ok(host: HostState, spec: RequestSpec) -> bool:
    return host.pci_free.can_take(spec.resources.pci)


class PciPassthroughFilter:
    name = "pci_passthrough"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        requests = spec.resources.pci
        if not requests:
            return PASS
        if not host.inventory.pci_devices:
            return reject("pci: the host has no PCI devices")
        if _ok(host, spec):
            return PASS
        taken = host.pci_pool.take_all(requests, None, relax=True)  # for the reason
        return reject(taken) if isinstance(taken, str) else PASS

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        requests = spec.resources.pci
        if not requests:
            return rows
        rows = np.intersect1d(rows, index.pci_rows)
        wanted = sum(request.count for request in requests)
        rows = rows[index.column("free_pci")[rows] >= wanted]
        return by_host(index, spec, rows, _ok)
