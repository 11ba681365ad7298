"""select_destinations against a fake conductor: plans applied, conflicts retried on
refreshed state (bounded), NoValidHost with what was already placed."""

from __future__ import annotations

import random

import pytest

from corebus.envelope import RequestContext
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler
from schemas.errors import NoValidHost, PlanConflict
from schemas.messages.scheduler import SelectDestinations
from tests.unit.scheduler.builders import host, spec
from tests.unit.scheduler.fake_conductor import FakeConductor

CTX = RequestContext()


def scheduler(conductor: FakeConductor, **settings: object) -> Scheduler:
    config = SchedulerSettings(retry_backoff_s=0, **settings)
    return Scheduler(conductor, config, rng=random.Random(1))


async def test_selects_a_primary_and_alternates_per_instance() -> None:
    conductor = FakeConductor(host("a", generation=3), host("b"), host("c"), host("d"))
    request = spec(memory_mb=1024, instances=2)

    reply = await scheduler(conductor).select_destinations(CTX, SelectDestinations(spec=request))

    assert [s.instance_id for s in reply.selections] == list(request.instance_ids)
    for selection in reply.selections:
        assert conductor.placed[selection.instance_id] == selection.primary.host_id
        assert len(selection.alternates) == 2
        assert selection.primary.host_id not in {alt.host_id for alt in selection.alternates}
    first = reply.selections[0].primary
    assert (first.host, first.generation) == ("a", 4)  # the generation after the apply


async def test_alternates_are_bounded_by_max_attempts_and_the_request() -> None:
    conductor = FakeConductor(host("a"), host("b"), host("c"), host("d"))

    one = await scheduler(conductor, max_attempts=2).select_destinations(
        CTX, SelectDestinations(spec=spec())
    )
    none = await scheduler(conductor).select_destinations(
        CTX, SelectDestinations(spec=spec(max_alternates=0))
    )

    assert len(one.selections[0].alternates) == 1
    assert none.selections[0].alternates == ()


async def test_conflicts_are_planned_again_on_refreshed_state() -> None:
    conductor = FakeConductor(host("a"), host("b"))
    conductor.interfere(2)

    reply = await scheduler(conductor).select_destinations(
        CTX, SelectDestinations(spec=spec(instances=3))
    )

    assert len(conductor.plans) == 3
    assert len(reply.selections) == 3
    assert {s.instance_id for s in reply.selections} == set(conductor.placed)


async def test_gives_up_after_the_configured_rounds() -> None:
    conductor = FakeConductor(host("a"))
    conductor.interfere(10)

    with pytest.raises(PlanConflict) as caught:
        await scheduler(conductor, plan_rounds=3).select_destinations(
            CTX, SelectDestinations(spec=spec())
        )

    assert len(conductor.plans) == 3
    assert caught.value.retryable
    assert conductor.placed == {}


async def test_no_valid_host_names_the_filter_and_places_nothing() -> None:
    conductor = FakeConductor(host("a", memory_mb=2048), host("b", disabled=True))

    with pytest.raises(NoValidHost) as caught:
        await scheduler(conductor).select_destinations(
            CTX, SelectDestinations(spec=spec(memory_mb=4096, instances=2))
        )

    assert caught.value.details["filter"] == "resources"
    assert caught.value.details["removed"]["compute"] == 1
    assert caught.value.details["placed"] == []
    assert conductor.plans == []  # nothing was applied: the whole request was planned first


def test_settings_refuse_unknown_plugins_and_repeated_filters() -> None:
    with pytest.raises(ValueError, match="unknown"):
        SchedulerSettings(weighers={"io": 1.0})
    with pytest.raises(ValueError, match="twice"):
        SchedulerSettings(filters=("compute", "compute"))
