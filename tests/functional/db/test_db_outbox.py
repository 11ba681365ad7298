"""The outbox: relay-assigned sequences are gap-free and follow commit order."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from conductor.db.pool import open_connection, open_pool
from conductor.db.queries import outbox
from corebus.config import DatabaseSettings

pytestmark = pytest.mark.functional


async def test_sequences_are_gap_free_and_in_id_order(fresh_dsn: str) -> None:
    async with open_connection(fresh_dsn) as conn:
        ids = [await outbox.append(conn, "instance.create.start", {"n": n}) for n in range(30)]

        batches = []
        while batch := await outbox.assign_sequences(conn, limit=7):
            batches.append(batch)

        events = [e for batch in batches for e in batch]
        assert [len(b) for b in batches] == [7, 7, 7, 7, 2]
        assert [e.published_seq for e in events] == list(range(1, 31))
        assert [e.id for e in events] == ids
        assert [e.payload for e in events] == [{"n": n} for n in range(30)]
        assert await outbox.last_sequence(conn) == 30


async def test_publish_recovery_and_replay(fresh_dsn: str) -> None:
    async with open_connection(fresh_dsn) as conn:
        for n in range(5):
            await outbox.append(conn, "port.create.end", {"n": n}, request_id=f"req-{n}")
        assigned = await outbox.assign_sequences(conn)
        assert await outbox.replay(conn, 0) == []  # nothing confirmed yet

        # the relay died before publishing: the same numbers come back
        pending = await outbox.pending_publish(conn)
        assert [e.published_seq for e in pending] == [e.published_seq for e in assigned]
        assert await outbox.mark_published(conn, [1, 2, 3]) == 3
        assert await outbox.mark_published(conn, [3]) == 0
        assert [e.published_seq for e in await outbox.pending_publish(conn)] == [4, 5]
        await outbox.mark_published(conn, [4, 5])

        replayed = await outbox.replay(conn, 2)
        assert [(e.published_seq, e.request_id) for e in replayed] == [
            (3, "req-2"),
            (4, "req-3"),
            (5, "req-4"),
        ]
        assert all(e.published_at is not None for e in replayed)


async def test_uncommitted_rows_wait_for_a_later_sequence(fresh_dsn: str) -> None:
    async with open_connection(fresh_dsn) as writer, open_connection(fresh_dsn) as relay:
        tx = writer.transaction()
        await tx.start()
        late = await outbox.append(writer, "instance.delete.start", {"late": True})
        early = await outbox.append(relay, "instance.create.start", {"late": False})

        first = await outbox.assign_sequences(relay)
        await tx.commit()
        second = await outbox.assign_sequences(relay)

        assert [(e.id, e.published_seq) for e in first] == [(early, 1)]
        assert [(e.id, e.published_seq) for e in second] == [(late, 2)]


async def test_concurrent_relays_and_writers_never_leave_gaps(fresh_dsn: str) -> None:
    settings = DatabaseSettings(dsn=fresh_dsn, pool_min=1, pool_max=8)
    async with open_pool(settings) as pool:

        async def write(n: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await outbox.append(conn, "instance.update", {"n": n})

        async def relay(rounds: int) -> list[int]:
            seqs: list[int] = []
            for _ in range(rounds):
                async with pool.acquire() as conn:
                    seqs += [
                        e.published_seq or 0 for e in await outbox.assign_sequences(conn, limit=5)
                    ]
                await asyncio.sleep(0)
            return seqs

        results = await asyncio.gather(
            *(write(n) for n in range(60)), relay(20), relay(20), relay(20)
        )
        seqs = [s for r in results if isinstance(r, list) for s in r]
        async with pool.acquire() as conn:
            while rest := await outbox.assign_sequences(conn):
                seqs += [e.published_seq or 0 for e in rest]
            rows = await conn.fetch("SELECT id, published_seq FROM outbox ORDER BY published_seq")

    assert sorted(seqs) == list(range(1, 61))
    assert len(rows) == 60 and [r["published_seq"] for r in rows] == list(range(1, 61))


async def test_purge_keeps_unpublished_rows(conn: asyncpg.Connection) -> None:
    keep = await outbox.append(conn, "volume.attach.end", {})
    future = await conn.fetchval("SELECT now() + interval '1 hour'")

    await outbox.purge(conn, future)

    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE id = $1", keep) == 1
