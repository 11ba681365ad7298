"""Explanations: per-filter counts, the filter that removed the last hosts in the
NoValidHost message, a named host's reason or rank, each weigher's contribution, and
the `scheduler.explain` RPC that re-runs the pipeline without claiming."""

from __future__ import annotations

import random

import pytest

from corebus.envelope import RequestContext
from scheduler.config import SchedulerSettings
from scheduler.explain import explain
from scheduler.host_index import HostIndex
from scheduler.pipeline import Pipeline
from scheduler.planner import plan_instances
from scheduler.registry import build_filters, build_weighers
from scheduler.service import Scheduler
from schemas.errors import NoValidHost
from schemas.messages.scheduler import ExplainPlacement
from tests.unit.scheduler.builders import host, spec
from tests.unit.scheduler.fake_conductor import FakeConductor

CTX = RequestContext()


def pipeline() -> Pipeline:
    settings = SchedulerSettings()
    return Pipeline(build_filters(settings.filters), build_weighers(settings.weighers))


def hundred_hosts() -> HostIndex:
    down = [host(f"a{i}", disabled=True) for i in range(2)]
    small = [host(f"b{i:02d}", memory_mb=1024) for i in range(98)]
    return HostIndex(down + small)


def test_no_valid_host_names_the_filter_that_removed_the_last_hosts() -> None:
    request = spec(memory_mb=4096)

    with pytest.raises(NoValidHost) as caught:
        plan_instances(pipeline(), hundred_hosts(), request, request.instance_ids)

    message = caught.value.message
    assert "100 host(s) considered, 0 passed" in message
    assert "filter 'resources' removed the last 98" in message
    assert "b00: memory_mb: requested 4096 MB" in message
    assert "hosts removed per filter: compute: 2, resources: 98" in message
    assert caught.value.details["removed"]["compute"] == 2


def test_explain_counts_per_filter_and_names_the_last() -> None:
    reply = explain(pipeline(), hundred_hosts(), spec(memory_mb=4096), host="a1")

    assert (reply.considered, reply.passed, reply.last_filter) == (100, 0, "resources")
    counts = {count.filter: count.removed for count in reply.filters if count.removed}
    assert counts == {"compute": 2, "resources": 98}
    assert reply.host is not None
    assert (reply.host.filter, reply.host.reason) == ("compute", "disabled")


def test_explain_a_host_removed_before_the_last_filter() -> None:
    index = HostIndex([host("big", memory_mb=65536), host("small", memory_mb=1024)])

    reply = explain(pipeline(), index, spec(memory_mb=4096), host="small")

    assert reply.host is not None and not reply.host.passed
    assert reply.host.filter == "resources"
    assert "memory_mb: requested 4096 MB" in (reply.host.reason or "")


def test_explain_shows_each_weighers_share_of_the_best_hosts() -> None:
    index = HostIndex([host("a", memory_mb=8192), host("b", memory_mb=4096, vcpus=16, disk_gb=200)])

    reply = explain(pipeline(), index, spec(), host="b")

    assert [w.host for w in reply.best] == ["b", "a"]
    assert reply.best[0].contributions["cpu"] == 1.0
    assert reply.best[0].contributions["ram"] == 0.0
    assert reply.best[1].contributions["ram"] == 1.0
    assert reply.best[0].score == pytest.approx(sum(reply.best[0].contributions.values()))
    assert reply.host is not None and reply.host.passed
    assert reply.host.weight is not None and reply.host.weight.rank == 0


def test_explain_an_unknown_host() -> None:
    reply = explain(pipeline(), HostIndex([host("a")]), spec(), host="ghost")

    assert reply.host is not None and not reply.host.passed
    assert "not in the scheduler's host view" in (reply.host.reason or "")


async def test_the_explain_rpc_claims_nothing() -> None:
    conductor = FakeConductor(host("a", memory_mb=8192), host("b", disabled=True))
    scheduler = Scheduler(conductor, SchedulerSettings(), rng=random.Random(1))

    reply = await scheduler.explain(CTX, ExplainPlacement(spec=spec(memory_mb=2048), host="b"))

    assert reply.passed == 1 and [w.host for w in reply.best] == ["a"]
    assert reply.host is not None and reply.host.filter == "compute"
    assert conductor.plans == [] and conductor.placed == {}


def test_every_decision_says_what_each_weigher_contributed() -> None:
    index = HostIndex(
        [host("a", memory_mb=8192), host("b", disabled=True), host("c", memory_mb=4096)]
    )
    request = spec(memory_mb=1024)

    (planned,) = plan_instances(pipeline(), index, request, request.instance_ids)

    assert planned.primary.host.name == "a"
    assert planned.primary.contributions["ram"] == 1.0
    assert planned.removed["compute"] == 1
    text = planned.explain()
    assert "on a (score 1: ram +1)" in text
    assert "hosts removed per filter: compute: 1" in text
