"""PCI passthrough / SR-IOV and NUMA topology filters, table-driven, each row through
both forms: VF counts per PF, PF/VF exclusivity, alias counts, NUMA cells full or
partial, pinned CPUs, and the PCI NUMA affinity policies."""

from __future__ import annotations

import pytest

from scheduler.filters import Filter
from scheduler.filters.numa_topology import NumaTopologyFilter
from scheduler.filters.pci_passthrough import PciPassthroughFilter
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.pci import PciNumaAffinity, PciRequest
from schemas.placement import NumaCellUsage
from tests.unit.scheduler.builders import judge
from tests.unit.scheduler.topology import cells, gpu, pf, port, topo_host, topo_spec, vfs

PCI = PciPassthroughFilter()
NUMA = NumaTopologyFilter()
PF0, PF1 = pf(0x3B, node=0), pf(0x3C, node=1)
VF0, VF1 = vfs(PF0, 2), vfs(PF1, 2)
GPU_ALIAS = PciRequest(vendor_id="10de", product_id="1eb8", alias_name="gpu")
REQUIRED, PREFERRED = PciNumaAffinity.REQUIRED, PciNumaAffinity.PREFERRED
LEGACY, SOCKET = PciNumaAffinity.LEGACY, PciNumaAffinity.SOCKET


def used(*addresses: str) -> frozenset[str]:
    return frozenset(addresses)


def pinned(cell: int, cpus: range, memory_mb: int = 0) -> NumaCellUsage:
    return NumaCellUsage(cell_id=cell, pinned_cpus=frozenset(cpus), memory_mb=memory_mb)


CASES: list[tuple[str, Filter, HostState, RequestSpec, str | None]] = [
    ("no PCI asked", PCI, topo_host(), topo_spec(), None),
    ("no devices at all", PCI, topo_host(), topo_spec(pci=(port(),)), "no PCI devices"),
    ("a free VF", PCI, topo_host(devices=[PF0, *VF0]), topo_spec(pci=(port(),)), None),
    (
        "every VF of the PF in use",
        PCI,
        topo_host(devices=[PF0, *VF0], pci_used=used(*(v.address for v in VF0))),
        topo_spec(pci=(port(),)),
        "free VFs per PF: 0000:3b:00.0=0",
    ),
    (
        "a VF of a PF given whole",
        PCI,
        topo_host(devices=[PF0, *VF0], pci_used=used(PF0.address)),
        topo_spec(pci=(port(),)),
        "0 free",
    ),
    (
        "a PF whole while one of its VFs is used",
        PCI,
        topo_host(devices=[PF0, *VF0], pci_used=used(VF0[0].address)),
        topo_spec(pci=(port("direct-physical"),)),
        "type-PF on physnet1",
    ),
    (
        "a PF whole, its VFs all free",
        PCI,
        topo_host(devices=[PF0, *VF0]),
        topo_spec(pci=(port("direct-physical"),)),
        None,
    ),
    (
        "VFs counted over two PFs",
        PCI,
        topo_host(devices=[PF0, *VF0, PF1, *VF1], pci_used=used(VF0[0].address)),
        topo_spec(pci=(PciRequest(count=3, dev_type="type-VF", physical_network="physnet1"),)),
        None,
    ),
    (
        "one VF too few",
        PCI,
        topo_host(devices=[PF0, *VF0, PF1, *VF1], pci_used=used(VF0[0].address, VF1[0].address)),
        topo_spec(pci=(PciRequest(count=3, dev_type="type-VF", physical_network="physnet1"),)),
        "2 free",
    ),
    (
        "a PF and a VF: the VF comes from the other PF",
        PCI,
        topo_host(devices=[PF0, *VF0, PF1, *VF1]),
        topo_spec(pci=(port("direct"), port("direct-physical"))),
        None,
    ),
    (
        "a PF and a VF of the only PF",
        PCI,
        topo_host(devices=[PF0, *VF0]),
        topo_spec(pci=(port("direct"), port("direct-physical"))),
        "type-VF",
    ),
    (
        "wrong physical network",
        PCI,
        topo_host(devices=[pf(0x3B, network="physnet2")]),
        topo_spec(pci=(port("direct-physical"),)),
        "0 matching",
    ),
    (
        "two GPUs by alias",
        PCI,
        topo_host(devices=[gpu(0), gpu(1)]),
        topo_spec(pci=(GPU_ALIAS.model_copy(update={"count": 2}),)),
        None,
    ),
    (
        "three GPUs by alias, two exist",
        PCI,
        topo_host(devices=[gpu(0), gpu(1)]),
        topo_spec(pci=(GPU_ALIAS.model_copy(update={"count": 3}),)),
        "2 matching, 2 free",
    ),
    ("no NUMA asked", NUMA, topo_host(), topo_spec(), None),
    ("no NUMA cells", NUMA, topo_host(), topo_spec(nodes=1), "reports no NUMA topology"),
    ("one cell, pinned", NUMA, topo_host(numa=cells()), topo_spec(4, 4096, nodes=1), None),
    (
        "more pinned CPUs than one cell has",
        NUMA,
        topo_host(numa=cells(cpus=4)),
        topo_spec(6, 4096, nodes=1),
        "no placement for guest cells [6 cpus/4096 MB]",
    ),
    (
        "split over two cells",
        NUMA,
        topo_host(numa=cells(cpus=4)),
        topo_spec(6, 4096, nodes=2),
        None,
    ),
    (
        "three guest cells, two host cells",
        NUMA,
        topo_host(numa=cells()),
        topo_spec(3, 3072, nodes=3),
        "guest needs 3 NUMA cells, host has 2",
    ),
    (
        "cell 0 partly pinned, cell 1 free",
        NUMA,
        topo_host(numa=cells(cpus=4), cells_used=(pinned(0, range(0, 3)),)),
        topo_spec(4, 4096, nodes=1),
        None,
    ),
    (
        "both cells partly pinned",
        NUMA,
        topo_host(numa=cells(cpus=4), cells_used=(pinned(0, range(0, 3)), pinned(1, range(4, 6)))),
        topo_spec(3, 2048, nodes=1),
        "cell 0: 1 free cpus",
    ),
    (
        "cell memory full",
        NUMA,
        topo_host(numa=cells(memory_mb=4096), cells_used=(pinned(0, range(0), 4096),)),
        topo_spec(2, 4096, nodes=2),
        "cell 0: 4 free cpus, 0 MB",
    ),
    (
        "shared policy ignores pinned CPUs",
        NUMA,
        topo_host(numa=cells(cpus=2), cells_used=(pinned(0, range(0, 2)), pinned(1, range(2, 4)))),
        topo_spec(4, 4096, nodes=2, dedicated=False),
        None,
    ),
    (
        "required: the device's cell is free",
        NUMA,
        topo_host(numa=cells(), devices=[PF1, *VF1]),
        topo_spec(2, 2048, nodes=1, pci=(port(policy=REQUIRED),)),
        None,
    ),
    (
        "required: the device's cell is pinned full",
        NUMA,
        topo_host(numa=cells(), devices=[PF1, *VF1], cells_used=(pinned(1, range(4, 8)),)),
        topo_spec(2, 2048, nodes=1, pci=(port(policy=REQUIRED),)),
        "allowed near NUMA cells [0]",
    ),
    (
        "preferred: a remote device will do",
        NUMA,
        topo_host(numa=cells(), devices=[PF1, *VF1], cells_used=(pinned(1, range(4, 8)),)),
        topo_spec(2, 2048, nodes=1, pci=(port(policy=PREFERRED),)),
        None,
    ),
    (
        "legacy: a device without a NUMA node will do",
        NUMA,
        topo_host(numa=cells(), devices=[gpu(0, node=None)], cells_used=(pinned(0, range(0, 4)),)),
        topo_spec(2, 2048, nodes=1, pci=(GPU_ALIAS.model_copy(update={"numa_policy": LEGACY}),)),
        None,
    ),
    (
        "legacy: a device on the other cell will not",
        NUMA,
        topo_host(numa=cells(), devices=[gpu(0, node=0)], cells_used=(pinned(0, range(0, 4)),)),
        topo_spec(2, 2048, nodes=1, pci=(GPU_ALIAS.model_copy(update={"numa_policy": LEGACY}),)),
        "pci:",
    ),
    (
        "socket: a device on the other cell of the same socket",
        NUMA,
        topo_host(
            numa=cells(sockets=True), devices=[gpu(0, node=0)], cells_used=(pinned(0, range(0, 4)),)
        ),
        topo_spec(2, 2048, nodes=1, pci=(GPU_ALIAS.model_copy(update={"numa_policy": SOCKET}),)),
        None,
    ),
    (
        "socket: a device on another socket",
        NUMA,
        topo_host(numa=cells(), devices=[gpu(0, node=0)], cells_used=(pinned(0, range(0, 4)),)),
        topo_spec(2, 2048, nodes=1, pci=(GPU_ALIAS.model_copy(update={"numa_policy": SOCKET}),)),
        "pci:",
    ),
]


@pytest.mark.parametrize(
    ("flt", "state", "request_spec", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_filter(
    flt: Filter, state: HostState, request_spec: RequestSpec, reason: str | None
) -> None:
    verdict = judge(flt, state, request_spec)

    if reason is None:
        assert verdict, verdict.reason
    else:
        assert not verdict
        assert reason in verdict.reason
