"""Hosts registered the way agents do it, and instances to place, for the scheduler's
functional tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from conductor.db.queries import identity, instances
from conductor.hosts import HostRegistry
from conductor.placement import Placement
from corebus.client import Client
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner
from schemas.claims import ResourceRequest
from schemas.messages.conductor_hosts import RegisterHost, RegisterHostReply
from schemas.messages.scheduler import RequestSpec
from schemas.placement import HostInventory, HostRole


@asynccontextmanager
async def conductor_bus(pool: asyncpg.Pool) -> AsyncIterator[InMemoryBus]:
    """An in-memory bus with a conductor (host registry and placement) serving on it."""
    memory = InMemoryBus()
    await memory.start()
    runner = ServiceRunner(
        memory, [HostRegistry(pool, 10.0, 60.0), Placement(pool, down_after_s=60.0)]
    )
    await runner.start()
    try:
        yield memory
    finally:
        await runner.stop()
        await memory.close()


def zone() -> str:
    return f"az-{uuid4().hex[:8]}"


async def register(
    client: Client, name: str, inventory: HostInventory, availability_zone: str
) -> RegisterHostReply:
    return await client.call(
        "conductor.register_host",
        RegisterHost(
            name=name,
            incarnation=uuid4(),
            roles=frozenset({HostRole.COMPUTE}),
            availability_zone=availability_zone,
            inventory=inventory,
            agent_version="test",
            started_at=datetime.now(UTC),
        ),
        RegisterHostReply,
    )


async def new_instances(pool: asyncpg.Pool, count: int) -> tuple[UUID, tuple[UUID, ...]]:
    """(project, ids of `count` BUILDING instances)."""
    async with pool.acquire() as conn:
        project = (await identity.create_project(conn, f"p-{uuid4().hex[:10]}"))["id"]
        ids = []
        for _ in range(count):
            row = await instances.insert_instance(
                conn,
                project_id=project,
                user_id=uuid4(),
                name=f"vm-{uuid4().hex[:8]}",
                flavor={"name": "test", "vcpus": 1, "memory_mb": 512, "disk_gb": 1},
            )
            assert row is not None
            ids.append(row["id"])
    return project, tuple(ids)


def request(project: UUID, ids: tuple[UUID, ...], az: str, **resources: Any) -> RequestSpec:
    return RequestSpec(
        instance_ids=ids,
        num_instances=len(ids),
        project_id=project,
        flavor_id=uuid4(),
        resources=ResourceRequest(**resources),
        availability_zone=az,
    )
