"""The cached host view: reused while fresh, kept current with what this scheduler
placed, fetched again after a conflict, never the reason for a NoValidHost, and
fetched incrementally once the conductor gives a cursor."""

from __future__ import annotations

import random
from uuid import UUID

from corebus.envelope import RequestContext
from scheduler.cache import HostStateCache
from scheduler.config import SchedulerSettings
from scheduler.host_state import HostState
from scheduler.service import Scheduler
from schemas.fit import subtract_claim
from schemas.messages.conductor_hosts import HostSnapshot, HostView, HostViewReply
from schemas.messages.scheduler import SelectDestinations
from schemas.scheduling import NO_FACTS, HostFacts
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


class CursorConductor(FakeConductor):
    """Keeps a change log: a view with `changed_since` holds only the hosts changed since
    that cursor, and the hosts removed since."""

    def __init__(self, *hosts: HostState) -> None:
        super().__init__(*hosts)
        self.cursor = 1
        self.changed: dict[UUID, int] = {h.id: 1 for h in hosts}
        self.gone: dict[UUID, int] = {}
        self.asked: list[int | None] = []

    def change(self, state: HostState) -> None:
        self.cursor += 1
        self.hosts[state.id], self.usage[state.id] = state.host, state.usage
        self.changed[state.id] = self.cursor

    def remove(self, host_id: UUID) -> None:
        self.cursor += 1
        del self.hosts[host_id], self.usage[host_id]
        self.gone[host_id] = self.cursor

    async def host_view(self, ctx: RequestContext, req: HostView) -> HostViewReply:
        self.asked.append(req.changed_since)
        since = req.changed_since or 0
        return HostViewReply(
            hosts=tuple(
                HostSnapshot(host=self.hosts[i], usage=self.usage[i])
                for i, at in self.changed.items()
                if at > since and i in self.hosts
            ),
            removed=tuple(i for i, at in self.gone.items() if at > since) if since else (),
            cursor=self.cursor,
        )


async def test_a_cursor_makes_refreshes_incremental() -> None:
    a, b, c = host("a"), host("b"), host("c", memory_mb=65536)
    conductor = CursorConductor(a, b)
    cache = HostStateCache(conductor)

    await cache.refresh(CTX)
    conductor.change(c)
    conductor.remove(a.id)
    index = await cache.refresh(CTX)

    assert conductor.asked == [None, 1]
    assert [s.name for s in index.states] == ["b", "c"]
    assert index.column("free_ram")[index.by_name["c"]] == 65536
    await cache.refresh(CTX, full=True)
    assert conductor.asked[-1] is None


async def test_a_view_without_a_cursor_replaces_the_whole_view() -> None:
    conductor = FakeConductor(host("a"), host("b"))
    cache = HostStateCache(conductor)
    await cache.refresh(CTX)
    del conductor.hosts[next(iter(conductor.hosts))]

    index = await cache.refresh(CTX)

    assert [s.name for s in index.states] == ["b"]


def test_a_snapshot_s_facts_reach_the_host_state() -> None:
    facts = HostFacts(aggregate_metadata={"slow": {"cpu_allocation_ratio": "2.0"}}, io_ops=3)
    reported = host("a", vcpus=4, inventory={"cpu_allocation_ratio": 16.0})

    state = HostState.of(HostSnapshot(host=reported.host, usage=reported.usage, facts=facts))
    without = HostState.of(HostSnapshot(host=reported.host, usage=reported.usage))

    assert state.facts == facts
    assert state.inventory.cpu_allocation_ratio == 2.0  # the aggregate's, not the host's
    assert without.facts == NO_FACTS and without.inventory.cpu_allocation_ratio == 16.0
