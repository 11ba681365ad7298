"""Fact sequences: stale and duplicate facts are dropped."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import pytest

from conductor.db.queries import facts

pytestmark = pytest.mark.functional


async def test_accept_fact_drops_duplicates_and_stale_sequences(
    conn: asyncpg.Connection,
) -> None:
    vm = uuid4()

    assert await facts.accept_fact(conn, "instance", vm, "cmp-1", 5)
    assert not await facts.accept_fact(conn, "instance", vm, "cmp-1", 5)  # duplicate
    assert not await facts.accept_fact(conn, "instance", vm, "cmp-1", 3)  # stale
    assert await facts.accept_fact(conn, "instance", vm, "cmp-1", 6)
    assert await facts.last_seq(conn, "instance", vm, "cmp-1") == 6


async def test_sequences_are_per_resource_kind_and_host(conn: asyncpg.Connection) -> None:
    vm = uuid4()
    assert await facts.accept_fact(conn, "instance", vm, "cmp-1", 10)

    assert await facts.accept_fact(conn, "instance", vm, "cmp-2", 1)  # after a migration
    assert await facts.accept_fact(conn, "port", vm, "cmp-1", 1)
    assert await facts.accept_fact(conn, "instance", uuid4(), "cmp-1", 1)
    assert await facts.forget_resource(conn, "instance", vm) == 2
    assert await facts.accept_fact(conn, "instance", vm, "cmp-1", 1)


async def test_concurrent_duplicates_are_accepted_once(pool: asyncpg.Pool) -> None:
    port = str(uuid4())

    async def deliver(seq: int) -> bool:
        async with pool.acquire() as conn, conn.transaction():
            return await facts.accept_fact(conn, "port", port, "net-1", seq)

    results = await asyncio.gather(*(deliver(7) for _ in range(20)))

    assert results.count(True) == 1
    async with pool.acquire() as conn:
        assert await facts.last_seq(conn, "port", port, "net-1") == 7


async def test_a_rolled_back_fact_is_not_remembered(conn: asyncpg.Connection) -> None:
    vm = uuid4()
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            assert await facts.accept_fact(conn, "instance", vm, "cmp-1", 1)
            raise RuntimeError("applying the fact failed")

    assert await facts.accept_fact(conn, "instance", vm, "cmp-1", 1)
