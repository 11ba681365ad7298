"""Each filter, table-driven: which hosts pass and the reason the others give."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.filter_options import FilterOptions
from scheduler.filters import Filter
from scheduler.filters.availability_zone import AvailabilityZoneFilter
from scheduler.filters.compute import ComputeFilter
from scheduler.filters.hosts import HostsFilter
from scheduler.filters.io_ops import IoOpsFilter
from scheduler.filters.num_instances import NumInstancesFilter
from scheduler.filters.resources import ResourcesFilter
from scheduler.filters.tenant_isolation import TenantIsolationFilter
from scheduler.filters.traits import TraitsFilter
from scheduler.host_state import HostState
from scheduler.registry import build_filters
from schemas.messages.scheduler import RequestSpec
from schemas.placement import HostRole
from schemas.placement import HostState as Liveness
from schemas.scheduling import HostFacts
from tests.unit.scheduler.builders import PROJECT, host, judge, spec

CASES: list[tuple[str, Filter, HostState, RequestSpec, str | None]] = [
    # (case, filter, host, request, None when it passes else a fragment of the reason)
    ("up and enabled", ComputeFilter(), host(), spec(), None),
    ("down", ComputeFilter(), host(state=Liveness.DOWN), spec(), "down"),
    ("disabled", ComputeFilter(), host(disabled=True), spec(), "disabled"),
    (
        "disabled with reason",
        ComputeFilter(),
        host(disabled=True, disabled_reason="maintenance"),
        spec(),
        "disabled (maintenance)",
    ),
    (
        "network only",
        ComputeFilter(),
        host(roles=frozenset({HostRole.NETWORK})),
        spec(),
        "not a compute host",
    ),
    ("fits exactly", ResourcesFilter(), host(vcpus=2, memory_mb=2048), spec(2, 2048, 100), None),
    ("too much memory", ResourcesFilter(), host(memory_mb=2048), spec(1, 2049), "memory_mb"),
    (
        "vcpus over-committed by ratio 4",
        ResourcesFilter(),
        host(vcpus=4, used=(15, 0, 0), inventory={"cpu_allocation_ratio": 4.0}),
        spec(1, 512, 1),
        None,
    ),
    (
        "vcpus ratio 4 exhausted",
        ResourcesFilter(),
        host(vcpus=4, used=(16, 0, 0), inventory={"cpu_allocation_ratio": 4.0}),
        spec(1, 512, 1),
        "vcpus: requested 1, free 0 of capacity 16",
    ),
    (
        "reserved memory is not offered",
        ResourcesFilter(),
        host(memory_mb=4096, inventory={"reserved_memory_mb": 1024}),
        spec(1, 3073, 1),
        "free 3072 MB of capacity 3072 MB = (total 4096 - reserved 1024)",
    ),
    (
        "reserved memory with ram ratio 1.5",
        ResourcesFilter(),
        host(memory_mb=4096, inventory={"reserved_memory_mb": 1024, "ram_allocation_ratio": 1.5}),
        spec(1, 4096, 1),
        None,
    ),
    (
        "reserved disk and usage",
        ResourcesFilter(),
        host(disk_gb=100, used=(0, 0, 60), inventory={"reserved_disk_gb": 20}),
        spec(1, 512, 21),
        "disk_gb: requested 21 GB, free 20 GB",
    ),
    (
        "more vcpus than the host has, whatever the ratio",
        ResourcesFilter(),
        host(vcpus=4, inventory={"cpu_allocation_ratio": 16.0}),
        spec(5, 512, 1),
        "more than the host's total 4",
    ),
    ("not ignored", HostsFilter(), host("a"), spec(ignore_hosts=frozenset({"b"})), None),
    ("ignored", HostsFilter(), host("a"), spec(ignore_hosts=frozenset({"a"})), "ignored"),
    ("forced elsewhere", HostsFilter(), host("a"), spec(force_host="b"), "forced to host b"),
    ("forced here", HostsFilter(), host("a"), spec(force_host="a"), None),
    ("any zone", AvailabilityZoneFilter(), host(availability_zone="az1"), spec(), None),
    (
        "same zone",
        AvailabilityZoneFilter(),
        host(availability_zone="az1"),
        spec(availability_zone="az1"),
        None,
    ),
    (
        "other zone",
        AvailabilityZoneFilter(),
        host(availability_zone="az1"),
        spec(availability_zone="az2"),
        "in zone az1, not az2",
    ),
    (
        "required trait present",
        TraitsFilter(),
        host(inventory={"traits": frozenset({"HW_CPU_X86_AVX2"})}),
        spec(required_traits=frozenset({"HW_CPU_X86_AVX2"})),
        None,
    ),
    (
        "required trait missing",
        TraitsFilter(),
        host(),
        spec(required_traits=frozenset({"CUSTOM_GPU"})),
        "lacks traits CUSTOM_GPU",
    ),
    (
        "forbidden trait present",
        TraitsFilter(),
        host(inventory={"traits": frozenset({"CUSTOM_SLOW"})}),
        spec(forbidden_traits=frozenset({"CUSTOM_SLOW"})),
        "forbidden traits CUSTOM_SLOW",
    ),
    ("io ops below the limit", IoOpsFilter(8), host(facts=HostFacts(io_ops=7)), spec(), None),
    (
        "io ops at the limit",
        IoOpsFilter(8),
        host(facts=HostFacts(io_ops=8)),
        spec(),
        "8 IO operations in flight, at most 8",
    ),
    ("instances below the cap", NumInstancesFilter(2), host(usage={"instances": 1}), spec(), None),
    (
        "instances at the cap",
        NumInstancesFilter(2),
        host(usage={"instances": 2}),
        spec(),
        "holds 2 instances, at most 2",
    ),
    ("host for anyone", TenantIsolationFilter(), host(), spec(), None),
    (
        "host set aside for this project",
        TenantIsolationFilter(),
        host(facts=HostFacts(aggregate_metadata={"p": {"filter_tenant_id": f"x, {PROJECT}"}})),
        spec(),
        None,
    ),
    (
        "host set aside for another project",
        TenantIsolationFilter(),
        host(facts=HostFacts(aggregate_metadata={"p": {"filter_tenant_id_2": "other"}})),
        spec(),
        "set aside for other projects",
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
        assert verdict.reason == ""
    else:
        assert not verdict
        assert reason in verdict.reason


def test_every_filter_has_a_distinct_name() -> None:
    from scheduler.registry import FILTERS

    names: list[Any] = [factory(FilterOptions()).name for factory in FILTERS.values()]
    assert names == list(FILTERS)


def test_filter_options_reach_the_filters() -> None:
    options = FilterOptions(max_io_ops_per_host=2, max_instances_per_host=3)
    io_ops, instances = build_filters(["io_ops", "num_instances"], options)

    assert not judge(io_ops, host(facts=HostFacts(io_ops=2)), spec())
    assert judge(io_ops, host(facts=HostFacts(io_ops=1)), spec())
    assert not judge(instances, host(usage={"instances": 3}), spec())
