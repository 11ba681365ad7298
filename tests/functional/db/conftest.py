"""Databases for the conductor's DB tests, derived from the run's `pg_dsn`: each name is
pg_dsn's plus a suffix, created here and dropped afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from db_factories import derived_dsn

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from conductor.db.pool import open_connection, open_pool
from corebus.config import DatabaseSettings


@pytest.fixture
async def empty_dsn(pg_dsn: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    dsn = derived_dsn(pg_dsn)
    await create_database(dsn)
    try:
        yield dsn
    finally:
        await drop_database(dsn)


@pytest.fixture
async def fresh_dsn(empty_dsn: str) -> str:
    """A fresh database with the whole schema, for one test."""
    await upgrade(empty_dsn)
    return empty_dsn


@pytest.fixture(scope="module")
def migrated_dsn(pg_dsn: str) -> Iterator[str]:
    """A database with the whole schema shared by one test module (tests use their own
    projects, hosts and instances so they do not see each other)."""
    dsn = derived_dsn(pg_dsn)

    async def setup() -> None:
        await create_database(dsn)
        await upgrade(dsn)

    asyncio.run(setup())
    try:
        yield dsn
    finally:
        asyncio.run(drop_database(dsn))


@pytest.fixture
async def conn(migrated_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    async with open_connection(migrated_dsn) as connection:
        yield connection


@pytest.fixture
async def pool(migrated_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    settings = DatabaseSettings(dsn=migrated_dsn, pool_min=1, pool_max=10)
    async with open_pool(settings) as p:
        yield p
