"""Free PCI devices, to keep PCI hosts for the requests that need them (Nova's
PCIWeigher): for a request with PCI devices the value is the host's free devices (hosts
with more to spare rank higher), for one without it is minus that (hosts without
devices rank higher). Multiplier 1 by default."""

from __future__ import annotations

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from scheduler.weighers import Values
from schemas.messages.scheduler import RequestSpec


class PciWeigher:
    name = "pci"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        count = sum(host.pci_free.free_by_kind.values()) if host.inventory.pci_devices else 0
        return float(count if spec.resources.pci else -count)

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values:
        values = index.column("free_pci")[rows].astype(float)
        return values if spec.resources.pci else -values
