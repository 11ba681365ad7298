"""Table-driven tests of the resource arithmetic in schemas.fit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from schemas.claims import ResourceRequest
from schemas.fit import Fit, add_claim, capacity, fit, free, subtract_claim, sum_claims
from schemas.pci import PciDeviceStatus, PciNumaAffinity
from schemas.placement import HostInventory, HostUsage
from tests.unit.schemas.fitting import (
    cells,
    gpu,
    gpu_request,
    host,
    numa_want,
    pf,
    pf_request,
    sriov,
    used,
    vf,
    vf_request,
    want,
)

REQ, PREF, LEG, SOCK = (
    PciNumaAffinity.REQUIRED,
    PciNumaAffinity.PREFERRED,
    PciNumaAffinity.LEGACY,
    PciNumaAffinity.SOCKET,
)
PF0, PF1 = "0000:3b:00.0", "0000:3c:00.0"
VF00, VF01, VF10, VF11 = "0000:3b:02.0", "0000:3b:02.1", "0000:3c:02.0", "0000:3c:02.1"
GPU0, GPU1, GPU2 = "0000:80:00.0", "0000:81:00.0", "0000:82:00.0"


@dataclass
class Case:
    id: str
    inventory: HostInventory
    usage: HostUsage
    request: ResourceRequest
    refused: str | None = None  # the refusing resource
    reason: str = ""  # a part of the reason
    pci: tuple[str, ...] | None = None  # addresses claimed, in request order
    cells: tuple[tuple[int, frozenset[int]], ...] | None = None  # (host cell, pinned cpus)


AMOUNTS = [
    Case("cpu-ratio-fits", host(vcpus=8, cpu_allocation_ratio=4.0), used(vcpus=30), want(2)),
    Case(
        "cpu-ratio-full",
        host(vcpus=8, cpu_allocation_ratio=4.0),
        used(vcpus=30),
        want(3),
        "vcpus",
        "free 2 of capacity 32",
    ),
    Case(
        "cpu-reserved",
        host(vcpus=8, reserved_vcpus=2, cpu_allocation_ratio=2.0),
        used(vcpus=10),
        want(3),
        "vcpus",
        "(total 8 - reserved 2) x ratio 2.0",
    ),
    Case(
        "cpu-max-unit",
        host(vcpus=8, cpu_allocation_ratio=16.0),
        used(),
        want(9),
        "vcpus",
        "more than the host's total 8",
    ),
    Case(
        "cpu-ratio-truncates",
        host(vcpus=3, cpu_allocation_ratio=1.1),
        used(vcpus=3),
        want(1),
        "vcpus",
        "capacity 3",
    ),
    Case(
        "ram-reserved-fits",
        host(memory_mb=8192, reserved_memory_mb=512),
        used(memory_mb=7000),
        want(memory_mb=680),
    ),
    Case(
        "ram-reserved-full",
        host(memory_mb=8192, reserved_memory_mb=512),
        used(memory_mb=7000),
        want(memory_mb=681),
        "memory_mb",
        "free 680 MB",
    ),
    Case(
        "ram-ratio",
        host(memory_mb=8192, ram_allocation_ratio=1.5),
        used(memory_mb=8192),
        want(memory_mb=4096),
    ),
    Case(
        "ram-ratio-full",
        host(memory_mb=8192, ram_allocation_ratio=1.5),
        used(memory_mb=8192),
        want(memory_mb=4097),
        "memory_mb",
        "capacity 12288 MB",
    ),
    Case(
        "disk-reserved",
        host(disk_gb=100, reserved_disk_gb=10),
        used(disk_gb=80),
        want(disk_gb=11),
        "disk_gb",
        "free 10 GB",
    ),
    Case(
        "disk-ratio",
        host(disk_gb=100, disk_allocation_ratio=2.0),
        used(disk_gb=150),
        want(disk_gb=50),
    ),
    Case("boot-from-volume-needs-no-disk", host(disk_gb=10), used(disk_gb=10), want(disk_gb=0)),
    Case("overcommitted-host-refuses", host(vcpus=4), used(vcpus=6), want(1), "vcpus", "free -2"),
]

PCI_ALIAS = [
    Case(
        "gpu-count-fits",
        host(pci_devices=(gpu(0), gpu(1), gpu(2))),
        used(GPU0),
        want(pci=(gpu_request(2),)),
        pci=(GPU1, GPU2),
    ),
    Case(
        "gpu-count-short",
        host(pci_devices=(gpu(0), gpu(1), gpu(2))),
        used(GPU0),
        want(pci=(gpu_request(3),)),
        "pci",
        "3 matching, 2 free",
    ),
    Case(
        "gpu-other-product-ignored",
        host(pci_devices=(gpu(0), gpu(1, product="2204"))),
        used(),
        want(pci=(gpu_request(2),)),
        "pci",
        "1 matching",
    ),
    Case(
        "gpu-vendor-only-alias",
        host(pci_devices=(gpu(0), gpu(1, product="2204"))),
        used(),
        want(pci=(gpu_request(2, product=None),)),
        pci=(GPU0, GPU1),
    ),
    Case(
        "gpu-unavailable-not-counted",
        host(pci_devices=(gpu(0, status=PciDeviceStatus.UNAVAILABLE), gpu(1))),
        used(),
        want(pci=(gpu_request(2),)),
        "pci",
        "2 matching, 1 free",
    ),
    Case(
        "two-alias-requests",
        host(pci_devices=(gpu(0), gpu(1), gpu(2))),
        used(),
        want(pci=(gpu_request(1), gpu_request(2))),
        pci=(GPU0, GPU1, GPU2),
    ),
]

SRIOV = [
    Case(
        "vf-packs-onto-serving-pf",
        host(pci_devices=sriov()),
        used(VF10),
        want(pci=(vf_request(),)),
        pci=(VF11,),
    ),
    Case(
        "vf-fresh-host-takes-first",
        host(pci_devices=sriov()),
        used(),
        want(pci=(vf_request(),)),
        pci=(VF00,),
    ),
    Case(
        "pf-skips-pf-with-vf-in-use",
        host(pci_devices=sriov()),
        used(VF00),
        want(pci=(pf_request(),)),
        pci=(PF1,),
    ),
    Case(
        "pf-refused-when-every-pf-serves-vfs",
        host(pci_devices=sriov()),
        used(VF00, VF10),
        want(pci=(pf_request(),)),
        "pci",
        "2 matching, 0 free",
    ),
    Case(
        "pf-in-use-blocks-its-vfs",
        host(pci_devices=sriov()),
        used(PF0),
        want(pci=(vf_request(count=2),)),
        pci=(VF10, VF11),
    ),
    Case(
        "vfs-per-pf-in-reason",
        host(pci_devices=sriov()),
        used(PF0),
        want(pci=(vf_request(count=3),)),
        "pci",
        "free VFs per PF: 0000:3b:00.0=0, 0000:3c:00.0=2",
    ),
    Case(
        "pf-and-vf-in-one-request",
        host(pci_devices=sriov()),
        used(),
        want(pci=(vf_request(), pf_request())),
        pci=(VF10, PF0),
    ),
    Case(
        "pf-and-vf-one-pf-only",
        host(pci_devices=sriov(pfs=1)),
        used(),
        want(pci=(vf_request(), pf_request())),
        "pci",
        "2 matching, 0 free; free VFs per PF: 0000:3b:00.0=0",
    ),
    Case(
        "vf-wrong-physnet",
        host(pci_devices=sriov()),
        used(),
        want(pci=(vf_request("physnet2"),)),
        "pci",
        "0 matching",
    ),
    Case(
        "agent-reported-allocated-vf-blocks-pf",
        host(pci_devices=(pf(0), vf(0, 0, status=PciDeviceStatus.ALLOCATED), vf(0, 1))),
        used(),
        want(pci=(pf_request(),)),
        "pci",
        "0 free",
    ),
]

TWO_CELLS = cells(2, cpus=4, memory_mb=8192)
NUMA = [
    Case(
        "pin-on-first-cell",
        host(numa_cells=TWO_CELLS),
        used(),
        numa_want((2, 1024)),
        cells=((0, frozenset({0, 1})),),
    ),
    Case(
        "pin-skips-pinned-cpus",
        host(numa_cells=TWO_CELLS),
        used(pinned={0: {0, 2}}),
        numa_want((2, 1024)),
        cells=((0, frozenset({1, 3})),),
    ),
    Case(
        "pin-moves-to-free-cell",
        host(numa_cells=TWO_CELLS),
        used(pinned={0: {0, 1, 2}}),
        numa_want((2, 1024)),
        cells=((1, frozenset({4, 5})),),
    ),
    Case(
        "two-guest-cells",
        host(numa_cells=TWO_CELLS),
        used(),
        numa_want((2, 1024), (3, 1024)),
        cells=((0, frozenset({0, 1})), (1, frozenset({4, 5, 6}))),
    ),
    Case(
        "guest-cell-too-big",
        host(numa_cells=TWO_CELLS),
        used(),
        numa_want((5, 1024)),
        "numa",
        "cell 0: 4 free cpus, 8192 MB",
    ),
    Case(
        "more-guest-cells-than-host",
        host(numa_cells=TWO_CELLS),
        used(),
        numa_want((1, 512), (1, 512), (1, 512)),
        "numa",
        "host has 2",
    ),
    Case(
        "cell-memory-short",
        host(numa_cells=TWO_CELLS),
        used(cell_memory={0: 8000}),
        numa_want((1, 4096)),
        cells=((1, frozenset({4})),),
    ),
    Case(
        "cell-memory-short-everywhere",
        host(numa_cells=TWO_CELLS),
        used(cell_memory={0: 8000, 1: 8000}),
        numa_want((1, 4096)),
        "numa",
        "192 MB",
    ),
    Case(
        "shared-pins-nothing",
        host(numa_cells=TWO_CELLS),
        used(pinned={0: {0, 1, 2, 3}}),
        numa_want((6, 1024), dedicated=False),
        cells=((0, frozenset()),),
    ),
    Case(
        "dedicated-skips-shared-pool",
        host(vcpus=0, numa_cells=TWO_CELLS),
        used(),
        numa_want((4, 1024)),
    ),
    Case("no-numa-on-host", host(), used(), numa_want((1, 512)), "numa", "no NUMA topology"),
]

# one guest cell; the device is on host cell 1, cell 0 comes first in host-cell order
ON_CELL_1 = (gpu(0, numa=1),)
CELL_1_FULL = used(cell_memory={1: 8192})
AFFINITY = [
    Case(
        "required-follows-device",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        used(),
        numa_want((1, 1024), pci=(gpu_request(policy=REQ),)),
        pci=(GPU0,),
        cells=((1, frozenset({4})),),
    ),
    Case(
        "required-refused-when-device-cell-full",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        CELL_1_FULL,
        numa_want((1, 1024), pci=(gpu_request(policy=REQ),)),
        "pci",
        "(required)",
    ),
    Case(
        "required-device-without-node-refused",
        host(numa_cells=TWO_CELLS, pci_devices=(gpu(0),)),
        used(),
        numa_want((1, 1024), pci=(gpu_request(policy=REQ),)),
        "pci",
        "1 free, 0 of them",
    ),
    Case(
        "preferred-local-when-possible",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        used(),
        numa_want((1, 1024), pci=(gpu_request(policy=PREF),)),
        pci=(GPU0,),
        cells=((1, frozenset({4})),),
    ),
    Case(
        "preferred-falls-back-to-remote",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        CELL_1_FULL,
        numa_want((1, 1024), pci=(gpu_request(policy=PREF),)),
        pci=(GPU0,),
        cells=((0, frozenset({0})),),
    ),
    Case(
        "legacy-device-without-node-anywhere",
        host(numa_cells=TWO_CELLS, pci_devices=(gpu(0),)),
        used(),
        numa_want((1, 1024), pci=(gpu_request(policy=LEG),)),
        pci=(GPU0,),
        cells=((0, frozenset({0})),),
    ),
    Case(
        "legacy-device-with-node-must-be-local",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        CELL_1_FULL,
        numa_want((1, 1024), pci=(gpu_request(policy=LEG),)),
        "pci",
        "(legacy)",
    ),
    Case(
        "socket-same-socket-other-cell",
        host(numa_cells=cells(3, sockets=(0, 0, 1)), pci_devices=ON_CELL_1),
        CELL_1_FULL,
        numa_want((1, 1024), pci=(gpu_request(policy=SOCK),)),
        pci=(GPU0,),
        cells=((0, frozenset({0})),),
    ),
    Case(
        "socket-other-socket-refused",
        host(numa_cells=cells(3, sockets=(0, 1, 1)), pci_devices=ON_CELL_1),
        used(cell_memory={1: 8192, 2: 8192}),
        numa_want((1, 1024), pci=(gpu_request(policy=SOCK),)),
        "pci",
        "(socket)",
    ),
    Case(
        "socket-device-without-node-refused",
        host(numa_cells=cells(2, sockets=(0, 0)), pci_devices=(gpu(0),)),
        used(),
        numa_want((1, 1024), pci=(gpu_request(policy=SOCK),)),
        "pci",
        "1 free, 0 of them",
    ),
    Case(
        "required-any-guest-cell",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        used(),
        numa_want((1, 1024), (1, 1024), pci=(gpu_request(policy=REQ),)),
        pci=(GPU0,),
    ),
    Case(
        "policy-ignored-without-guest-numa",
        host(numa_cells=TWO_CELLS, pci_devices=ON_CELL_1),
        CELL_1_FULL,
        want(pci=(gpu_request(policy=REQ),)),
        pci=(GPU0,),
    ),
    Case(
        "vf-numa-required",
        host(numa_cells=TWO_CELLS, pci_devices=sriov(numa=(0, 1))),
        used(pinned={1: {4, 5, 6, 7}}),
        numa_want((2, 1024), pci=(vf_request(policy=REQ),)),
        pci=(VF00,),
        cells=((0, frozenset({0, 1})),),
    ),
]

ALL = AMOUNTS + PCI_ALIAS + SRIOV + NUMA + AFFINITY


@pytest.mark.parametrize("case", ALL, ids=[case.id for case in ALL])
def test_fit(case: Case) -> None:
    result = fit(case.inventory, case.usage, case.request)
    if case.refused:
        assert not result and result.claim is None
        assert result.resource == case.refused, result.reason
        assert case.reason in result.reason
        return
    assert result, result.reason
    claim = result.claim
    assert claim is not None
    assert claim.memory_mb == case.request.memory_mb
    assert claim.disk_gb == case.request.disk_gb
    assert claim.vcpus == case.request.shared_vcpus
    if case.pci is not None:
        assert tuple(device.address for device in claim.pci_devices) == case.pci
    if case.cells is not None:
        assert tuple((c.host_cell, c.pinned_cpus) for c in claim.numa_cells) == case.cells
    after = add_claim(case.usage, claim)  # the claim can be taken...
    assert fit(case.inventory, after, ResourceRequest())  # ...and leaves a sane usage
    assert subtract_claim(after, claim) == case.usage


def test_claimed_resources_are_not_claimed_again() -> None:
    inventory = host(numa_cells=TWO_CELLS, pci_devices=sriov(pfs=1, vfs=1))
    request = numa_want((3, 4096), pci=(vf_request(),))
    usage = used()
    first = fit(inventory, usage, request)
    assert first.claim is not None
    usage = add_claim(usage, first.claim)
    second = fit(inventory, usage, request)
    assert not second and second.resource == "pci"
    without_vf = fit(inventory, usage, numa_want((3, 4096)))
    assert without_vf.claim is not None
    assert without_vf.claim.numa_cells[0].host_cell == 1


def test_fit_without_anything_requested_always_fits() -> None:
    assert fit(host(vcpus=1), used(vcpus=99), ResourceRequest())


def test_claim_is_built_lazily_and_repr_explains() -> None:
    result = fit(host(), used(), want(2, 1024, 10))
    assert isinstance(result, Fit) and result._claim is None
    assert result.claim is result.claim
    assert "claim=" in repr(result)
    refused = fit(host(vcpus=1), used(), want(2))
    assert "vcpus" in repr(refused)


def test_capacity_and_free() -> None:
    inventory = host(
        vcpus=8,
        reserved_vcpus=2,
        cpu_allocation_ratio=4.0,
        memory_mb=1000,
        reserved_memory_mb=100,
        ram_allocation_ratio=1.5,
        disk_gb=10,
    )
    cap = capacity(inventory)
    assert (cap.vcpus, cap.memory_mb, cap.disk_gb) == (24, 1350, 10)
    left = free(inventory, used(vcpus=4, memory_mb=1350, disk_gb=11))
    assert (left.vcpus, left.memory_mb, left.disk_gb) == (20, 0, -1)


def test_add_claim_refuses_double_takes() -> None:
    inventory = host(numa_cells=TWO_CELLS, pci_devices=(gpu(0),))
    claim = fit(inventory, used(), numa_want((1, 512), pci=(gpu_request(),))).claim
    assert claim is not None
    usage = add_claim(used(), claim)
    with pytest.raises(ValueError, match="PCI devices already in use"):
        add_claim(usage, claim)
    only_cpu = claim.model_copy(update={"pci_devices": ()})
    with pytest.raises(ValueError, match="already pinned"):
        add_claim(usage, only_cpu)


def test_subtract_claim_refuses_what_is_not_held() -> None:
    inventory = host(numa_cells=TWO_CELLS, pci_devices=(gpu(0),))
    claim = fit(inventory, used(), numa_want((1, 512), pci=(gpu_request(),))).claim
    assert claim is not None
    with pytest.raises(ValueError, match="not in use"):
        subtract_claim(used(), claim)
    no_pci = claim.model_copy(update={"pci_devices": ()})
    with pytest.raises(ValueError, match="NUMA cell 0"):
        subtract_claim(used(vcpus=1, memory_mb=512, instances=1), no_pci)
    with pytest.raises(ValueError, match="larger"):
        subtract_claim(used(), fit(host(), used(), want(1)).claim)  # type: ignore[arg-type]


def test_sum_claims_is_the_usage_of_allocations() -> None:
    inventory = host()
    claims = [fit(inventory, used(), want(2, 1024, 10)).claim for _ in range(3)]
    total = sum_claims(c for c in claims if c is not None)
    assert (total.vcpus, total.memory_mb, total.disk_gb, total.instances) == (6, 3072, 30, 3)
