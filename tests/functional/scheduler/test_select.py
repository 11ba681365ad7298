"""select_destinations end to end on real PostgreSQL: the scheduler plans on the
conductor's host view, the conductor applies; concurrent schedulers never over-commit a
host, and a request that fits nowhere gets NoValidHost naming the filter."""

from __future__ import annotations

import asyncio
import random
from uuid import UUID, uuid4

import asyncpg
import pytest

from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner
from scheduler.conductor_api import BusConductor
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler
from schemas.errors import NoValidHost
from schemas.messages.scheduler import SelectDestinations, SelectDestinationsReply
from schemas.placement import HostInventory
from tests.functional.scheduler.mesh import new_instances, register, request, zone

pytestmark = pytest.mark.functional

CTX = RequestContext()

# 4 instances of 1 vcpu / 1024 MB / 5 GB fit on each: memory (4096 + 1024 reserved)
# and vcpus (4 x ratio 1) are both exactly exhausted by the fourth
SMALL = HostInventory(
    vcpus=4, memory_mb=5120, disk_gb=40, cpu_allocation_ratio=1.0, reserved_memory_mb=1024
)
PER_HOST = 4


def scheduler(bus: InMemoryBus, seed: int) -> Scheduler:
    return Scheduler(BusConductor(Client(bus)), SchedulerSettings(), rng=random.Random(seed))


async def hosts(client: Client, count: int, az: str) -> list[UUID]:
    return [
        (await register(client, f"cmp-{uuid4().hex[:8]}", SMALL, az)).host_id for _ in range(count)
    ]


async def allocated(pool: asyncpg.Pool, host_ids: list[UUID]) -> dict[UUID, dict[str, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT rp.host_id, a.resource_class, sum(a.amount)::bigint AS used "
            "FROM allocations a JOIN resource_providers rp ON rp.id = a.provider_id "
            "WHERE rp.host_id = ANY($1) GROUP BY 1, 2",
            host_ids,
        )
    used: dict[UUID, dict[str, int]] = {h: {} for h in host_ids}
    for row in rows:
        used[row["host_id"]][row["resource_class"]] = row["used"]
    return used


async def test_two_schedulers_never_over_commit(
    bus: InMemoryBus, client: Client, pool: asyncpg.Pool
) -> None:
    az = zone()
    host_ids = await hosts(client, 3, az)
    project, ids = await new_instances(pool, 40)
    schedulers = [scheduler(bus, 1), scheduler(bus, 2)]
    # 24 single-instance requests and 8 requests for two instances
    groups = [ids[i : i + 1] for i in range(24)] + [ids[i : i + 2] for i in range(24, 40, 2)]

    async def place(index: int, group: tuple[UUID, ...]) -> SelectDestinationsReply | NoValidHost:
        spec = request(project, group, az, vcpus=1, memory_mb=1024, disk_gb=5)
        try:
            return await schedulers[index % 2].select_destinations(
                CTX, SelectDestinations(spec=spec)
            )
        except NoValidHost as exc:
            return exc

    results = await asyncio.gather(*(place(i, g) for i, g in enumerate(groups)))

    placed = {
        s.instance_id: s.primary.host_id
        for r in results
        if isinstance(r, SelectDestinationsReply)
        for s in r.selections
    }
    refused = [r for r in results if isinstance(r, NoValidHost)]
    used = await allocated(pool, host_ids)
    for host_id in host_ids:
        assert used[host_id].get("VCPU", 0) <= 4
        assert used[host_id].get("MEMORY_MB", 0) <= 4096
        assert used[host_id].get("DISK_GB", 0) <= 40
    assert len(placed) == 3 * PER_HOST  # every host filled, none over-filled
    assert sum(u.get("VCPU", 0) for u in used.values()) == len(placed)
    refused_instances = sum(len(g) for g, r in zip(groups, results, strict=True) if r in refused)
    assert len(placed) + refused_instances == 40
    assert all(r.details["filter"] == "resources" for r in refused)


async def test_no_valid_host_crosses_the_bus_naming_the_filter(
    bus: InMemoryBus, client: Client, pool: asyncpg.Pool
) -> None:
    az = zone()
    await hosts(client, 2, az)
    project, ids = await new_instances(pool, 1)
    runner = ServiceRunner(bus, [scheduler(bus, 3)])
    await runner.start()
    try:
        with pytest.raises(NoValidHost) as caught:
            await client.call(
                "scheduler.select_destinations",
                SelectDestinations(spec=request(project, ids, az, vcpus=1, memory_mb=8192)),
                SelectDestinationsReply,
            )
    finally:
        await runner.stop()

    assert "filter 'resources' removed the last 2" in caught.value.message
    assert "memory_mb: requested 8192 MB" in caught.value.message
    assert caught.value.details["filter"] == "resources"


async def test_selected_hosts_hold_the_allocations(
    bus: InMemoryBus, client: Client, pool: asyncpg.Pool
) -> None:
    az = zone()
    host_ids = await hosts(client, 3, az)
    project, ids = await new_instances(pool, 3)

    reply = await scheduler(bus, 4).select_destinations(
        CTX,
        SelectDestinations(spec=request(project, ids, az, vcpus=1, memory_mb=1024, disk_gb=5)),
    )

    # spread: one instance per host, each with the two other hosts as alternates
    assert sorted(str(s.primary.host_id) for s in reply.selections) == sorted(map(str, host_ids))
    assert all(len(s.alternates) == 2 for s in reply.selections)
    used = await allocated(pool, host_ids)
    assert all(u == {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 5} for u in used.values())
