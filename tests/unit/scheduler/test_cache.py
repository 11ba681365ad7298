"""The cached host view: reused while fresh, kept current with what this scheduler
placed, fetched again after a conflict, and never the reason for a NoValidHost."""

from __future__ import annotations

import random

from corebus.envelope import RequestContext
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler
from schemas.fit import subtract_claim
from schemas.messages.conductor_hosts import HostView, HostViewReply
from schemas.messages.scheduler import SelectDestinations
from tests.unit.scheduler.builders import host, spec
from tests.unit.scheduler.fake_conductor import FakeConductor

CTX = RequestContext()


class CountingConductor(FakeConductor):
    views = 0

    async def host_view(self, ctx: RequestContext, req: HostView) -> HostViewReply:
        self.views += 1
        return await super().host_view(ctx, req)


def scheduler(conductor: FakeConductor, max_age: float) -> Scheduler:
    config = SchedulerSettings(retry_backoff_s=0, host_view_max_age_s=max_age)
    return Scheduler(conductor, config, rng=random.Random(1))


async def test_a_fresh_view_is_reused_and_kept_current() -> None:
    conductor = CountingConductor(host("a"), host("b"))
    sched = scheduler(conductor, max_age=60)
    for _ in range(6):
        await sched.select_destinations(CTX, SelectDestinations(spec=spec(memory_mb=1024)))
    assert conductor.views == 1  # one fetch, then the scheduler's own bookkeeping
    assert len(conductor.plans) == 6 and len(conductor.placed) == 6  # no conflict at all


async def test_a_conflict_invalidates_the_view() -> None:
    conductor = CountingConductor(host("a"), host("b"))
    sched = scheduler(conductor, max_age=60)
    await sched.select_destinations(CTX, SelectDestinations(spec=spec()))
    conductor.interfere(1)  # someone else changes every host
    await sched.select_destinations(CTX, SelectDestinations(spec=spec()))
    assert conductor.views == 2


async def test_capacity_freed_elsewhere_is_found_before_no_valid_host() -> None:
    conductor = CountingConductor(host("a", memory_mb=2048))
    sched = scheduler(conductor, max_age=60)
    first = await sched.select_destinations(CTX, SelectDestinations(spec=spec(memory_mb=2048)))
    # a delete frees the host behind the scheduler's back (no generation change seen yet)
    (only,) = first.selections
    host_id = only.primary.host_id
    conductor.usage[host_id] = subtract_claim(conductor.usage[host_id], only.primary.claim)
    second = await sched.select_destinations(CTX, SelectDestinations(spec=spec(memory_mb=2048)))
    assert second.selections[0].primary.host_id == host_id
    assert conductor.views == 2  # the cached view said full; a fresh one said free
