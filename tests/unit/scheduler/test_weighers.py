"""Weighers: raw values with ratios and reserved amounts, normalised to [0, 1] times a
multiplier (positive spreads, negative stacks)."""

from __future__ import annotations

import pytest

from scheduler.pipeline import Pipeline
from scheduler.weighers import normalise
from scheduler.weighers.cpu import CpuWeigher
from scheduler.weighers.ram import RamWeigher
from tests.unit.scheduler.builders import host, spec

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
]


@pytest.mark.parametrize(("weigher", "state", "raw"), [c[1:] for c in RAW], ids=[c[0] for c in RAW])
def test_raw_value(weigher: RamWeigher | CpuWeigher, state: object, raw: float) -> None:
    assert weigher.weigh(state, spec()) == raw  # type: ignore[arg-type]


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
