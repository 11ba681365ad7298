"""Resource fit with per-aggregate ratios and reserved amounts, aggregate extra specs,
compute capabilities and image properties: table-driven, each row through both forms."""

from __future__ import annotations

import pytest

from scheduler.filters import Filter
from scheduler.filters.aggregate_extra_specs import AggregateInstanceExtraSpecsFilter
from scheduler.filters.compute_capabilities import ComputeCapabilitiesFilter
from scheduler.filters.image_properties import ImagePropertiesFilter, version_number
from scheduler.filters.resources import ResourcesFilter
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.scheduling import HostFacts
from tests.unit.scheduler.builders import host, judge, spec


def in_aggregates(**metadata: dict[str, str]) -> HostFacts:
    return HostFacts(aggregate_metadata=metadata)


RESOURCES = ResourcesFilter()
AGGREGATE = AggregateInstanceExtraSpecsFilter()
CAPS = ComputeCapabilitiesFilter()
IMAGE = ImagePropertiesFilter()
QEMU_8 = HostFacts(hypervisor_version=8002000, cpu_arch="x86_64")

CASES: list[tuple[str, Filter, HostState, RequestSpec, str | None]] = [
    (
        "aggregate raises the cpu ratio",
        RESOURCES,
        host(vcpus=4, used=(4, 0, 0), facts=in_aggregates(dense={"cpu_allocation_ratio": "4.0"})),
        spec(4, 512, 1),
        None,
    ),
    (
        "aggregate lowers the ram ratio",
        RESOURCES,
        host(
            memory_mb=4096,
            used=(0, 4096, 0),
            inventory={"ram_allocation_ratio": 2.0},
            facts=in_aggregates(strict={"ram_allocation_ratio": "1.0"}),
        ),
        spec(1, 1024, 1),
        "free 0 MB of capacity 4096 MB = (total 4096 - reserved 0) x ratio 1.0",
    ),
    (
        "two aggregates: the lowest ratio wins",
        RESOURCES,
        host(
            vcpus=4,
            facts=in_aggregates(a={"cpu_allocation_ratio": "8"}, b={"cpu_allocation_ratio": "2"}),
        ),
        spec(1, 512, 1),
        None,
    ),
    (
        "two aggregates: the lowest ratio refuses",
        RESOURCES,
        host(
            vcpus=4,
            used=(8, 0, 0),
            facts=in_aggregates(a={"cpu_allocation_ratio": "8"}, b={"cpu_allocation_ratio": "2"}),
        ),
        spec(1, 512, 1),
        "free 0 of capacity 8 = (total 4 - reserved 0) x ratio 2.0",
    ),
    (
        "aggregate reserves disk",
        RESOURCES,
        host(disk_gb=100, facts=in_aggregates(ops={"reserved_disk_gb": "50"})),
        spec(1, 512, 51),
        "free 50 GB of capacity 50 GB",
    ),
    (
        "a malformed aggregate ratio is ignored",
        RESOURCES,
        host(vcpus=2, facts=in_aggregates(bad={"cpu_allocation_ratio": "lots"})),
        spec(2, 512, 1),
        None,
    ),
    ("no extra specs", AGGREGATE, host(), spec(), None),
    (
        "scoped spec matches an aggregate",
        AGGREGATE,
        host(facts=in_aggregates(fast={"ssd": "true"})),
        spec(flavor_extra_specs={"aggregate_instance_extra_specs:ssd": "true"}),
        None,
    ),
    (
        "scoped spec, no aggregate sets it",
        AGGREGATE,
        host(facts=in_aggregates(fast={"gpu": "true"})),
        spec(flavor_extra_specs={"aggregate_instance_extra_specs:ssd": "true"}),
        "no aggregate of the host sets ssd",
    ),
    (
        "scoped spec with <or>",
        AGGREGATE,
        host(facts=in_aggregates(tier={"tier": "silver"})),
        spec(flavor_extra_specs={"aggregate_instance_extra_specs:tier": "<or> gold <or> silver"}),
        None,
    ),
    (
        "value differs",
        AGGREGATE,
        host(facts=in_aggregates(tier={"tier": "bronze"})),
        spec(flavor_extra_specs={"aggregate_instance_extra_specs:tier": "gold"}),
        "aggregate tier=bronze does not match 'gold'",
    ),
    (
        "other scopes are not the aggregate filter's",
        AGGREGATE,
        host(),
        spec(flavor_extra_specs={"hw:cpu_policy": "dedicated", "capabilities:cpu_arch": "x"}),
        None,
    ),
    (
        "capability: hypervisor type",
        CAPS,
        host(),
        spec(flavor_extra_specs={"capabilities:hypervisor_type": "s== QEMU"}),
        None,
    ),
    (
        "capability: at least 64 GB (the '=' operator means at least)",
        CAPS,
        host(memory_mb=32768),
        spec(flavor_extra_specs={"capabilities:memory_mb": "= 65536"}),
        "memory_mb=32768 does not match '= 65536'",
    ),
    (
        "capability not reported",
        CAPS,
        host(),
        spec(flavor_extra_specs={"capabilities:cpu_model": "Skylake"}),
        "does not report cpu_model",
    ),
    (
        "extra capability with <in>",
        CAPS,
        host(facts=HostFacts(capabilities={"cpu_flags": "sse4 avx2 aes"})),
        spec(flavor_extra_specs={"capabilities:cpu_flags": "<in> avx2"}),
        None,
    ),
    (
        "arch from the HW_ARCH trait",
        CAPS,
        host(inventory={"traits": frozenset({"HW_ARCH_AARCH64"})}),
        spec(flavor_extra_specs={"capabilities:cpu_arch": "aarch64"}),
        None,
    ),
    ("image without properties", IMAGE, host(), spec(), None),
    (
        "image architecture matches (alias amd64)",
        IMAGE,
        host(facts=QEMU_8),
        spec(image_properties={"hw_architecture": "amd64"}),
        None,
    ),
    (
        "image architecture differs",
        IMAGE,
        host(facts=QEMU_8),
        spec(image_properties={"hw_architecture": "aarch64"}),
        "architecture x86_64, the image needs aarch64",
    ),
    (
        "architecture unknown",
        IMAGE,
        host(),
        spec(image_properties={"hw_architecture": "x86_64"}),
        "architecture unknown",
    ),
    (
        "hypervisor type, any case",
        IMAGE,
        host(),
        spec(image_properties={"img_hv_type": "qemu"}),
        None,
    ),
    (
        "hypervisor type differs",
        IMAGE,
        host(),
        spec(image_properties={"img_hv_type": "xen"}),
        "hypervisor QEMU, the image needs xen",
    ),
    (
        "hypervisor version new enough",
        IMAGE,
        host(facts=QEMU_8),
        spec(image_properties={"hypervisor_version_requires": ">=8.0"}),
        None,
    ),
    (
        "hypervisor version too old",
        IMAGE,
        host(facts=QEMU_8),
        spec(image_properties={"img_hv_requested_version": ">= 9.1.0"}),
        "hypervisor version 8002000, the image needs >= 9.1.0",
    ),
    (
        "hypervisor version unknown",
        IMAGE,
        host(),
        spec(image_properties={"hypervisor_version_requires": ">=8.0"}),
        "hypervisor version unknown",
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


@pytest.mark.parametrize(
    ("text", "number"), [("8.2.0", 8002000), ("8.2", 8002000), ("9", 9), ("6000", 6000)]
)
def test_version_number(text: str, number: int) -> None:
    assert version_number(text) == number


def test_reserved_from_an_aggregate_never_exceeds_the_total() -> None:
    state = host(vcpus=4, facts=in_aggregates(big={"reserved_vcpus": "64"}))
    assert state.inventory.reserved_vcpus == 4
