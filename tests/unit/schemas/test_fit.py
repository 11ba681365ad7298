"""Table-driven tests of the resource arithmetic in schemas.fit."""

from __future__ import annotations

import pytest

from schemas.claims import ResourceRequest
from schemas.fit import Fit, add_claim, capacity, fit, free, subtract_claim, sum_claims
from tests.unit.schemas.fit_cases_numa import AFFINITY, NUMA
from tests.unit.schemas.fit_cases_pci import PCI_ALIAS, SRIOV
from tests.unit.schemas.fitting import (
    TWO_CELLS,
    Case,
    gpu,
    gpu_request,
    host,
    numa_want,
    sriov,
    used,
    vf_request,
    want,
)

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
