"""The transactional outbox behind `skymesh.notifications`.

Writers `append` in the same transaction as the state change. A relay then:
1. `assign_sequences`: holding the single-row `notification_sequence` counter FOR UPDATE
   (which serialises relays), numbers the oldest unassigned committed rows last_seq+1,
   +2, ... in id order, stores the numbers and the new counter, and commits: gap-free and
   ordered, unlike a database sequence;
2. publishes them, then `mark_published`.
After a crash between 1 and 2, `pending_publish` returns the numbered but unconfirmed
rows to publish again with the same numbers (consumers dedupe by sequence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conductor.db.types import Connection, affected

_COLUMNS = "id, event_type, payload, request_id, created_at, published_seq, published_at"


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    event_type: str
    payload: Any
    request_id: str | None
    created_at: datetime
    published_seq: int | None
    published_at: datetime | None


def _events(rows: Sequence[Any]) -> list[OutboxEvent]:
    return [OutboxEvent(**dict(row)) for row in rows]


async def append(
    conn: Connection, event_type: str, payload: Any, *, request_id: str | None = None
) -> int:
    """Queue a notification (call inside the state change's transaction); its id."""
    outbox_id: int = await conn.fetchval(
        "INSERT INTO outbox (event_type, payload, request_id) VALUES ($1, $2, $3) RETURNING id",
        event_type,
        payload,
        request_id,
    )
    return outbox_id


async def assign_sequences(conn: Connection, limit: int = 256) -> list[OutboxEvent]:
    """Number up to `limit` unassigned rows (oldest first) and commit; those rows by
    sequence. Rows are locked without SKIP LOCKED: skipping one would reorder them."""
    async with conn.transaction():
        last: int = await conn.fetchval("SELECT last_seq FROM notification_sequence FOR UPDATE")
        ids = [
            row["id"]
            for row in await conn.fetch(
                "SELECT id FROM outbox WHERE published_seq IS NULL ORDER BY id LIMIT $1 FOR UPDATE",
                limit,
            )
        ]
        if not ids:
            return []
        rows = await conn.fetch(
            f"UPDATE outbox o SET published_seq = $1 + s.ord "
            f"FROM unnest($2::bigint[]) WITH ORDINALITY AS s(id, ord) "
            f"WHERE o.id = s.id RETURNING {', '.join('o.' + c for c in _COLUMNS.split(', '))}",
            last,
            ids,
        )
        await conn.execute("UPDATE notification_sequence SET last_seq = $1", last + len(ids))
    return sorted(_events(rows), key=lambda e: e.published_seq or 0)


async def pending_publish(conn: Connection, limit: int = 256) -> list[OutboxEvent]:
    """Numbered rows not yet confirmed published, by sequence."""
    return _events(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM outbox "
            "WHERE published_seq IS NOT NULL AND published_at IS NULL "
            "ORDER BY published_seq LIMIT $1",
            limit,
        )
    )


async def mark_published(conn: Connection, seqs: Sequence[int]) -> int:
    """Confirm these sequence numbers were published; how many rows changed."""
    status = await conn.execute(
        "UPDATE outbox SET published_at = now() "
        "WHERE published_seq = ANY($1) AND published_at IS NULL",
        list(seqs),
    )
    return affected(status)


async def replay(conn: Connection, after_seq: int, limit: int = 1000) -> list[OutboxEvent]:
    """Published notifications with a sequence above `after_seq`, in order (for event
    stream replay within the retention)."""
    return _events(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM outbox "
            "WHERE published_seq > $1 AND published_at IS NOT NULL "
            "ORDER BY published_seq LIMIT $2",
            after_seq,
            limit,
        )
    )


async def last_sequence(conn: Connection) -> int:
    last: int = await conn.fetchval("SELECT last_seq FROM notification_sequence")
    return last


async def unassigned_count(conn: Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_seq IS NULL")
    return count


async def purge(conn: Connection, created_before: datetime) -> int:
    """Delete published rows created before `created_before` (the retention); the count."""
    status = await conn.execute(
        "DELETE FROM outbox WHERE published_at IS NOT NULL AND created_at < $1", created_before
    )
    return affected(status)
