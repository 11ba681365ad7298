"""A database of this module's own (derived from the run's `pg_dsn`, migrated, dropped
afterwards) and a conductor serving host registration, host views and plan applies on
the in-memory bus. Tests share the database, so each registers its hosts in its own
availability zone and asks for that zone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import asyncpg
import pytest

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from conductor.db.pool import open_pool
from corebus.client import Client
from corebus.config import DatabaseSettings
from corebus.memory import InMemoryBus
from tests.functional.scheduler.mesh import conductor_bus


@pytest.fixture(scope="module")
def placement_dsn(pg_dsn: str) -> Iterator[str]:
    dsn = f"{pg_dsn}_sched{uuid4().hex[:6]}"

    async def setup() -> None:
        await create_database(dsn)
        await upgrade(dsn)

    asyncio.run(setup())
    try:
        yield dsn
    finally:
        asyncio.run(drop_database(dsn))


@pytest.fixture
async def pool(placement_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    settings = DatabaseSettings(dsn=placement_dsn, pool_min=1, pool_max=8)
    async with open_pool(settings) as p:
        yield p


@pytest.fixture
async def bus(pool: asyncpg.Pool) -> AsyncIterator[InMemoryBus]:
    """The bus with a conductor (registry and placement) serving on it."""
    async with conductor_bus(pool) as memory:
        yield memory


@pytest.fixture
def client(bus: InMemoryBus) -> Client:
    return Client(bus)
