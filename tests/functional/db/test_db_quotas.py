"""Quota reservations: atomic under concurrency, all-or-nothing, commit and rollback."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import asyncpg
import db_factories as make
import pytest

from conductor.db.queries import quotas
from conductor.db.queries.quotas import QuotaExceeded

pytestmark = pytest.mark.functional


async def test_fifty_concurrent_reservations_against_ten_yield_exactly_ten(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        project = await make.project(conn)
        await quotas.set_limit(conn, project, "instances", 10)

    async def attempt() -> bool:
        async with pool.acquire() as conn:
            try:
                await quotas.reserve(conn, project, {"instances": 1, "cores": 1})
            except QuotaExceeded as exc:
                assert exc.resource == "instances"
                return False
            return True

    results = await asyncio.gather(*(attempt() for _ in range(50)))

    assert results.count(True) == 10
    async with pool.acquire() as conn:
        used = await quotas.usage(conn, project)
        reservations = await conn.fetchval(
            "SELECT count(DISTINCT id) FROM quota_reservations WHERE project_id = $1", project
        )
    assert used["instances"] == {"limit": 10, "in_use": 0, "reserved": 10}
    assert used["cores"]["reserved"] == 10  # failed attempts left nothing behind
    assert reservations == 10


async def test_reservation_is_all_or_nothing(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    await quotas.set_limit(conn, project, "cores", 4)

    with pytest.raises(QuotaExceeded) as caught:
        await quotas.reserve(conn, project, {"instances": 1, "cores": 8, "ram": 512})

    assert (caught.value.resource, caught.value.limit, caught.value.requested) == ("cores", 4, 8)
    used = await quotas.usage(conn, project)
    assert all(u["reserved"] == 0 and u["in_use"] == 0 for u in used.values())


async def test_commit_rollback_and_release(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    await quotas.set_limit(conn, project, "instances", 2)
    first = await quotas.reserve(conn, project, {"instances": 1, "ram": 2048})
    second = await quotas.reserve(conn, project, {"instances": 1})

    assert await quotas.commit(conn, first.id) == 2
    assert await quotas.rollback(conn, second.id) == 1
    assert await quotas.commit(conn, first.id) == 0  # settled already

    used = await quotas.usage(conn, project)
    assert used["instances"] == {"limit": 2, "in_use": 1, "reserved": 0}
    assert used["ram"]["in_use"] == 2048
    await quotas.reserve(conn, project, {"instances": 1})
    with pytest.raises(QuotaExceeded):
        await quotas.reserve(conn, project, {"instances": 1})

    await quotas.release(conn, project, {"instances": 1, "ram": 4096})
    used = await quotas.usage(conn, project)
    assert used["instances"]["in_use"] == 0
    assert used["ram"]["in_use"] == 0  # never below zero


async def test_unlimited_and_default_limits(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    await quotas.set_limit(conn, project, "instances", quotas.UNLIMITED)

    await quotas.reserve(conn, project, {"instances": 1000})
    with pytest.raises(QuotaExceeded) as caught:  # the default for key_pairs is 100
        await quotas.reserve(conn, project, {"key_pairs": 101})
    assert caught.value.limit == 100
    with pytest.raises(ValueError):
        await quotas.reserve(conn, project, {"instances": -1})


async def test_expired_reservations_are_found(conn: asyncpg.Connection) -> None:
    project: UUID = await make.project(conn)
    expired = await quotas.reserve(conn, project, {"instances": 1}, ttl=timedelta(seconds=-1))
    live = await quotas.reserve(conn, project, {"instances": 1})

    due = await quotas.expired_reservations(conn, limit=10_000)

    assert expired.id in due and live.id not in due
    await quotas.rollback(conn, expired.id)
    assert (await quotas.usage(conn, project))["instances"]["reserved"] == 1
