"""Weighers: raw values with ratios and reserved amounts, normalised to [0, 1] times a
multiplier (positive spreads, negative stacks)."""

from __future__ import annotations

from uuid import UUID

import numpy as np
import pytest

from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from scheduler.pipeline import Pipeline
from scheduler.weighers import Weigher, normalise
from scheduler.weighers.build_failure import BuildFailureWeigher
from scheduler.weighers.cpu import CpuWeigher
from scheduler.weighers.disk import DiskWeigher
from scheduler.weighers.io_ops import IoOpsWeigher
from scheduler.weighers.num_instances import NumInstancesWeigher
from scheduler.weighers.pci import PciWeigher
from scheduler.weighers.ram import RamWeigher
from scheduler.weighers.soft_affinity import SoftAffinityWeigher
from scheduler.weighers.soft_anti_affinity import SoftAntiAffinityWeigher
from schemas.messages.scheduler import RequestSpec, ServerGroupHint
from schemas.scheduling import HostFacts
from schemas.server_group import ServerGroupPolicy
from tests.unit.scheduler.builders import host, spec
from tests.unit.scheduler.topology import pf, port, topo_host, topo_spec, vfs

PF0 = pf(0x3B)
VF0 = vfs(PF0, 4)


def member_of(policy: ServerGroupPolicy, *hosts: str) -> RequestSpec:
    return spec(
        server_group=ServerGroupHint(group_id=UUID(int=9), policy=policy, member_hosts=hosts)
    )


RAW = [
    # (case, weigher, host, raw value)
    ("ram: free memory", RamWeigher(), host(memory_mb=8192, used=(0, 2048, 0)), 6144.0),
    (
        "ram: reserved and ratio",
        RamWeigher(),
        host(
            memory_mb=8192,
            used=(0, 1024, 0),
            inventory={"reserved_memory_mb": 2048, "ram_allocation_ratio": 1.5},
        ),
        8192.0,  # (8192 - 2048) x 1.5 - 1024
    ),
    (
        "ram: over-committed host is negative",
        RamWeigher(),
        host(memory_mb=1024, used=(0, 2048, 0)),
        -1024.0,
    ),
    (
        "cpu: ratio 4, reserved 2",
        CpuWeigher(),
        host(
            vcpus=8, used=(10, 0, 0), inventory={"cpu_allocation_ratio": 4.0, "reserved_vcpus": 2}
        ),
        14.0,  # (8 - 2) x 4 - 10
    ),
    ("cpu: ratio 1", CpuWeigher(), host(vcpus=8, used=(3, 0, 0)), 5.0),
    (
        "cpu: an aggregate's ratio",
        CpuWeigher(),
        host(vcpus=8, facts=HostFacts(aggregate_metadata={"d": {"cpu_allocation_ratio": "2"}})),
        16.0,
    ),
    (
        "disk: reserved and used",
        DiskWeigher(),
        host(disk_gb=100, used=(0, 0, 30), inventory={"reserved_disk_gb": 10}),
        60.0,
    ),
    ("io ops in flight", IoOpsWeigher(), host(facts=HostFacts(io_ops=3)), 3.0),
    ("instances", NumInstancesWeigher(), host(usage={"instances": 7}), 7.0),
    ("build failures sink", BuildFailureWeigher(), host(facts=HostFacts(failed_builds=2)), -2.0),
    (
        "pci: free devices, request without PCI",
        PciWeigher(),
        topo_host(devices=[PF0, *VF0], pci_used=frozenset({VF0[0].address})),
        -3.0,  # three free VFs; the PF is serving one, so it is not free
    ),
    ("pci: no devices", PciWeigher(), host(), 0.0),
]


def batch_value(weigher: Weigher, state: HostState, request: RequestSpec) -> float:
    index = HostIndex([state])
    (value,) = weigher.column(index, request, index.all_rows)
    return float(value)


@pytest.mark.parametrize(("weigher", "state", "raw"), [c[1:] for c in RAW], ids=[c[0] for c in RAW])
def test_raw_value(weigher: Weigher, state: HostState, raw: float) -> None:
    assert weigher.weigh(state, spec()) == raw
    assert batch_value(weigher, state, spec()) == raw


REQUEST_DEPENDENT = [
    ("pci: a PCI request counts free devices", PciWeigher(), topo_spec(pci=(port(),)), 5.0),
    (
        "soft affinity: members here",
        SoftAffinityWeigher(),
        member_of(ServerGroupPolicy.SOFT_AFFINITY, "cmp1", "cmp1", "other"),
        2.0,
    ),
    (
        "soft affinity: another policy",
        SoftAffinityWeigher(),
        member_of(ServerGroupPolicy.SOFT_ANTI_AFFINITY, "cmp1"),
        0.0,
    ),
    (
        "soft anti-affinity: members here",
        SoftAntiAffinityWeigher(),
        member_of(ServerGroupPolicy.SOFT_ANTI_AFFINITY, "cmp1"),
        -1.0,
    ),
    ("soft anti-affinity: no group", SoftAntiAffinityWeigher(), spec(), 0.0),
]


@pytest.mark.parametrize(
    ("weigher", "request_spec", "raw"),
    [c[1:] for c in REQUEST_DEPENDENT],
    ids=[c[0] for c in REQUEST_DEPENDENT],
)
def test_raw_value_for_the_request(weigher: Weigher, request_spec: RequestSpec, raw: float) -> None:
    state = topo_host("cmp1", devices=[PF0, *VF0])
    assert weigher.weigh(state, request_spec) == raw
    assert batch_value(weigher, state, request_spec) == raw


def test_build_failures_outweigh_everything_else() -> None:
    empty_but_failing = host("failing", facts=HostFacts(failed_builds=1))
    busy = host("busy", used=(7, 16000, 90), facts=HostFacts(io_ops=5))
    weighers: list[Weigher] = [
        RamWeigher(),
        CpuWeigher(),
        DiskWeigher(),
        IoOpsWeigher(),
        BuildFailureWeigher(),
    ]

    ranked = Pipeline([], weighers).select(HostIndex([empty_but_failing, busy]), spec()).ranked

    assert [r.host.name for r in ranked] == ["busy", "failing"]
    assert ranked[1].contributions["build_failure"] == 0.0
    assert ranked[0].contributions["build_failure"] == 1e6


def test_pci_hosts_are_kept_for_pci_requests() -> None:
    plain, sriov = host("plain", vcpus=32, memory_mb=65536), topo_host("sriov", devices=[PF0, *VF0])
    weighers: list[Weigher] = [RamWeigher(), PciWeigher()]
    index = HostIndex([plain, sriov])

    without = Pipeline([], weighers).select(index, spec()).ranked
    with_pci = Pipeline([], weighers).select(index, topo_spec(pci=(port(),))).ranked

    assert [r.host.name for r in without] == ["plain", "sriov"]
    assert [r.host.name for r in with_pci] == ["sriov", "plain"]


def test_batch_and_per_host_weights_agree() -> None:
    hosts = [host(f"h{i}", memory_mb=1024 * (i + 1), used=(i, 0, i)) for i in range(6)]
    weighers: list[Weigher] = [RamWeigher(1.0), CpuWeigher(-2.0), DiskWeigher(0.5)]
    pipeline = Pipeline([], weighers)

    batch = pipeline.select(HostIndex(hosts), spec()).ranked
    linear = pipeline.weigh(hosts, spec())

    assert [(r.host.name, r.score, r.contributions) for r in batch] == [
        (r.host.name, r.score, r.contributions) for r in linear
    ]
    assert np.isclose(batch[0].score, sum(batch[0].contributions.values()))


@pytest.mark.parametrize(
    ("values", "normalised"),
    [
        ([], []),
        ([5.0], [0.0]),
        ([3.0, 3.0], [0.0, 0.0]),
        ([0.0, 5.0, 10.0], [0.0, 0.5, 1.0]),
        ([-10.0, 10.0], [0.0, 1.0]),
    ],
)
def test_normalise(values: list[float], normalised: list[float]) -> None:
    assert normalise(values) == normalised


def test_positive_multiplier_spreads_and_negative_stacks() -> None:
    empty, busy = host("empty"), host("busy", used=(4, 8192, 50))

    spread = Pipeline([], [RamWeigher(1.0), CpuWeigher(1.0)]).weigh([busy, empty], spec())
    stack = Pipeline([], [RamWeigher(-1.0), CpuWeigher(-1.0)]).weigh([busy, empty], spec())

    assert [r.host.name for r in spread] == ["empty", "busy"]
    assert spread[0].contributions == {"ram": 1.0, "cpu": 1.0}
    assert spread[1].contributions == {"ram": 0.0, "cpu": 0.0}
    assert [r.host.name for r in stack] == ["busy", "empty"]
    assert stack[1].score == -2.0


def test_multiplier_scales_one_weigher_against_another() -> None:
    more_ram = host("more-ram", vcpus=4, memory_mb=32768)
    more_cpu = host("more-cpu", vcpus=16, memory_mb=16384)

    ranked = Pipeline([], [RamWeigher(2.0), CpuWeigher(1.0)]).weigh([more_cpu, more_ram], spec())

    assert [(r.host.name, r.score) for r in ranked] == [("more-ram", 2.0), ("more-cpu", 1.0)]
