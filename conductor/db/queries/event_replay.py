"""Reading back and expiring the outbox for the gateway's resumable event streams.

Replay reads every row that has a sequence number, published or not yet confirmed: a
notification the gateway's live feed delivered before the relay recorded the broker's
confirmation must still be found here, or a subscriber switching from replay to live
could miss it (a repeat is harmless, subscribers drop sequences they have seen).

The purge deletes whole prefixes of the sequence, never a row in the middle, so "the
oldest sequence kept" says exactly which resume points can still be served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected


@dataclass(frozen=True)
class Horizon:
    """What a replay may serve: sequences above `purged_through` up to `last`."""

    purged_through: int
    last: int


async def horizon(conn: Connection) -> Horizon:
    last: int = await conn.fetchval("SELECT last_seq FROM notification_sequence")
    oldest: int | None = await conn.fetchval(
        "SELECT min(published_seq) FROM outbox WHERE published_seq IS NOT NULL"
    )
    return Horizon(purged_through=last if oldest is None else oldest - 1, last=last)


async def numbered_after(
    conn: Connection,
    after: int,
    through: int,
    limit: int,
    *,
    project_id: UUID | None,
    like_patterns: list[str],
) -> list[Any]:
    """Rows numbered in (after, through] of `project_id` (None: every project) whose
    event type is LIKE one of `like_patterns` (none: every type), by sequence."""
    return list(
        await conn.fetch(
            "SELECT published_seq, event_type, payload FROM outbox "
            "WHERE published_seq > $1 AND published_seq <= $2 "
            "AND ($3::text IS NULL OR payload #>> '{body,payload,tenant_id}' = $3::text) "
            "AND (cardinality($4::text[]) = 0 OR event_type LIKE ANY($4::text[])) "
            "ORDER BY published_seq LIMIT $5",
            after,
            through,
            None if project_id is None else str(project_id),
            like_patterns,
            limit,
        )
    )


async def purge(conn: Connection, created_before: datetime, keep: int, batch: int = 5000) -> int:
    """Delete a prefix of published rows: those created before `created_before`, or
    beyond the newest `keep` (at most `batch` rows a call, never an unconfirmed row
    nor anything after one); how many rows went."""
    status = await conn.execute(
        """
        WITH bounds AS (
            SELECT
                (SELECT min(published_seq) FROM outbox
                  WHERE published_seq IS NOT NULL AND published_at IS NULL) AS unconfirmed,
                (SELECT min(published_seq) FROM outbox
                  WHERE published_seq IS NOT NULL AND created_at >= $1) AS young,
                (SELECT min(published_seq) FROM outbox WHERE published_seq IS NOT NULL) AS first,
                (SELECT max(published_seq) FROM outbox) AS last
        )
        DELETE FROM outbox WHERE published_seq <= (
            SELECT LEAST(
                coalesce(unconfirmed - 1, last),
                GREATEST(coalesce(young - 1, last), last - $2),
                first + $3 - 1
            ) FROM bounds
        )
        """,
        created_before,
        keep,
        batch,
    )
    return affected(status)
