"""Plans: primaries consume capacity as they go, alternates are other passing hosts, and
NoValidHost names the filter."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from scheduler.pipeline import Pipeline
from scheduler.planner import apply_request, plan_instances
from scheduler.registry import build_filters, build_weighers
from schemas.errors import NoValidHost
from tests.unit.scheduler.builders import host, spec


def pipeline(ram: float = 1.0) -> Pipeline:
    return Pipeline(build_filters(["compute", "resources"]), build_weighers({"ram": ram}))


def by_id(*hosts: HostState) -> HostIndex:
    return HostIndex(hosts)


def test_multi_instance_request_consumes_capacity_as_it_goes() -> None:
    hosts = by_id(host("a", memory_mb=4096), host("b", memory_mb=4096))
    request = spec(memory_mb=2048, instances=4)

    planned = plan_instances(pipeline(), hosts, request, request.instance_ids)

    assert Counter(p.primary.host.name for p in planned) == {"a": 2, "b": 2}
    # spread: a, then b (a has less free now), then a again
    assert [p.primary.host.name for p in planned] == ["a", "b", "a", "b"]
    # what each primary saw already counts the claims planned before it
    assert [p.primary.host.usage.memory_mb for p in planned] == [0, 0, 2048, 2048]


def test_a_fifth_instance_fits_nowhere_and_says_why() -> None:
    hosts = by_id(host("a", memory_mb=4096), host("b", memory_mb=4096))
    request = spec(memory_mb=2048, instances=5)

    with pytest.raises(NoValidHost) as caught:
        plan_instances(pipeline(), hosts, request, request.instance_ids)

    error = caught.value
    assert str(request.instance_ids[4]) in error.message
    assert "filter 'resources' removed the last 2" in error.message
    assert error.details["filter"] == "resources"
    assert error.details["removed"] == {"compute": 0, "resources": 2}


def test_stacking_fills_one_host_first() -> None:
    hosts = by_id(host("a", memory_mb=4096), host("b", memory_mb=4096))
    request = spec(memory_mb=2048, instances=3)

    planned = plan_instances(pipeline(ram=-1.0), hosts, request, request.instance_ids)

    assert [p.primary.host.name for p in planned] == ["a", "a", "b"]


def test_alternates_are_other_passing_hosts_best_first() -> None:
    hosts = by_id(
        host("a", memory_mb=8192),
        host("b", memory_mb=6144),
        host("c", memory_mb=4096),
        host("d", memory_mb=3072),
        host("full", memory_mb=1024),
    )
    request = spec(memory_mb=2048, instances=1)

    (planned,) = plan_instances(pipeline(), hosts, request, request.instance_ids, alternates=2)

    assert planned.primary.host.name == "a"
    assert [alt.host.name for alt in planned.alternates] == ["b", "c"]
    assert all(alt.claim.memory_mb == 2048 for alt in planned.alternates)


def test_subset_size_chooses_among_the_best() -> None:
    hosts = by_id(host("a", memory_mb=8192), host("b", memory_mb=8000), host("c", memory_mb=1000))
    request = spec(memory_mb=512, instances=1)
    seen = {
        plan_instances(
            pipeline(), hosts, request, request.instance_ids, subset_size=2, rng=random.Random(seed)
        )[0].primary.host.name
        for seed in range(20)
    }
    assert seen == {"a", "b"}


def test_the_plan_names_each_host_generation_once() -> None:
    a = host("a", memory_mb=8192, generation=7)
    request = spec(memory_mb=1024, instances=3)
    planned = plan_instances(pipeline(), by_id(a), request, request.instance_ids)

    message = apply_request(request.instance_ids[0], planned)

    assert [(g.host_id, g.generation) for g in message.host_generations] == [(a.id, 7)]
    assert [entry.instance_id for entry in message.allocations] == list(request.instance_ids)
