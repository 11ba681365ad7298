"""Claims per second through a real conductor: a scheduler's plans applied by
`conductor.apply_plan` (row locks, generation checks, the re-check with `schemas.fit`,
the allocation writes) on a throwaway PostgreSQL database, over the in-memory bus, with
`concurrency` requests in flight from one scheduler."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from conductor.db.pool import open_pool
from conductor.db.queries import identity, instances
from conductor.hosts import HostRegistry
from conductor.placement import Placement
from corebus.client import Client
from corebus.config import DatabaseSettings
from corebus.envelope import RequestContext
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner
from scheduler.conductor_api import BusConductor
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler
from schemas.claims import ResourceRequest
from schemas.messages.conductor_hosts import RegisterHost, RegisterHostReply
from schemas.messages.scheduler import RequestSpec, SelectDestinations
from schemas.placement import HostInventory, HostRole

Pool = Any  # conductor.db.pool's asyncpg pool: only conductor/ imports asyncpg
INVENTORY = HostInventory(vcpus=64, memory_mb=262144, disk_gb=2000)


async def _register(client: Client, hosts: int) -> None:
    for n in range(hosts):
        await client.call(
            "conductor.register_host",
            RegisterHost(
                name=f"bench-cmp{n:04d}",
                incarnation=uuid4(),
                roles=frozenset({HostRole.COMPUTE}),
                availability_zone="bench",
                inventory=INVENTORY,
                agent_version="bench",
                started_at=datetime.now(UTC),
            ),
            RegisterHostReply,
        )


async def _instances(pool: Pool, count: int) -> tuple[UUID, list[UUID]]:
    async with pool.acquire() as conn:
        project = (await identity.create_project(conn, f"bench-{uuid4().hex[:8]}"))["id"]
        ids = []
        for n in range(count):
            row = await instances.insert_instance(
                conn,
                project_id=project,
                user_id=uuid4(),
                name=f"bench-{n}",
                flavor={"name": "bench", "vcpus": 1, "memory_mb": 512, "disk_gb": 1},
            )
            assert row is not None
            ids.append(row["id"])
    return project, ids


async def _claims(pool: Pool, hosts: int, claims: int, concurrency: int) -> float:
    bus = InMemoryBus()
    await bus.start()
    runner = ServiceRunner(bus, [HostRegistry(pool, 10.0, 60.0), Placement(pool, 60.0)])
    await runner.start()
    try:
        client = Client(bus)
        await _register(client, hosts)
        project, ids = await _instances(pool, claims)
        scheduler = Scheduler(BusConductor(client), SchedulerSettings())
        resources = ResourceRequest(vcpus=1, memory_mb=512, disk_gb=1)
        ctx = RequestContext()
        queue = list(ids)

        async def worker() -> None:
            while queue:
                instance_id = queue.pop()
                spec = RequestSpec(
                    instance_ids=(instance_id,),
                    project_id=project,
                    flavor_id=uuid4(),
                    resources=resources,
                    availability_zone="bench",
                )
                await scheduler.select_destinations(ctx, SelectDestinations(spec=spec))

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        return claims / (time.perf_counter() - started)
    finally:
        await runner.stop()
        await bus.close()


async def claims_per_second(
    server_dsn: str, hosts: int = 100, claims: int = 500, concurrency: int = 8
) -> float:
    """Placements applied per second on `hosts` hosts of a fresh database on the server
    of `server_dsn` (created, migrated, dropped afterwards)."""
    logging.getLogger("conductor").setLevel(logging.WARNING)  # one line per host otherwise
    base = server_dsn.rsplit("/", 1)[0]
    dsn = f"{base}/skymesh_bench_{uuid4().hex[:8]}"
    await create_database(dsn)
    try:
        await upgrade(dsn)
        settings = DatabaseSettings(dsn=dsn, pool_min=1, pool_max=8)
        async with open_pool(settings) as pool:
            return await _claims(pool, hosts, claims, concurrency)
    finally:
        await drop_database(dsn)
