"""The change log of hosts (conductor/migrations/0009_host_changes.sql): the cursor a
host view is read at, the hosts changed since a cursor, and pruning.

Triggers write the log in the same transactions as the changes; the only explicit note
is a heartbeat that brings a down host back up (a heartbeat alone is no change)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from conductor.db.types import Connection

_PRUNE = """
WITH gone AS (DELETE FROM host_changes WHERE at < now() - $1::interval RETURNING xid)
UPDATE host_change_horizon SET xid = greatest(xid, (SELECT max(xid) FROM gone))
WHERE EXISTS (SELECT 1 FROM gone)"""


async def cursor(conn: Connection) -> int:
    """The cursor of the current snapshot: the oldest transaction it may not see. Read
    it in the transaction that reads the view. Transaction ids are the server's, so a
    transaction left open anywhere on it holds cursors back: replies grow (hosts sent
    again), they never miss a change."""
    value: int = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    return value


async def missed(conn: Connection, since: int) -> bool:
    """Whether changes after `since` were pruned already (the reader needs a whole view)."""
    horizon: int = await conn.fetchval("SELECT xid FROM host_change_horizon")
    return since <= horizon


async def changed_since(conn: Connection, since: int) -> set[UUID]:
    """Hosts changed by transactions `since` or later (and a few seen already)."""
    rows = await conn.fetch("SELECT DISTINCT host_id FROM host_changes WHERE xid >= $1", since)
    return {row["host_id"] for row in rows}


async def down_compute_hosts(conn: Connection, down_after: timedelta) -> set[UUID]:
    """Compute hosts that are down now (no change marks a host going down: it is the
    absence of heartbeats)."""
    rows = await conn.fetch(
        "SELECT id FROM hosts WHERE 'compute' = ANY(roles) "
        "AND (forced_down OR last_heartbeat_at <= now() - $1::interval)",
        down_after,
    )
    return {row["id"] for row in rows}


async def note_back_up(conn: Connection, name: str, down_after: timedelta) -> None:
    """Call before recording a heartbeat: a host whose last heartbeat is older than
    `down_after` is coming back up, which changes the host view."""
    await conn.execute(
        "INSERT INTO host_changes (host_id) SELECT id FROM hosts "
        "WHERE name = $1 AND last_heartbeat_at <= now() - $2::interval",
        name,
        down_after,
    )


async def prune(conn: Connection, older_than: timedelta) -> None:
    """Drop log rows older than `older_than`, raising the horizon past them."""
    await conn.execute(_PRUNE, older_than)
