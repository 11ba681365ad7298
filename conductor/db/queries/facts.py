"""Per-resource fact sequences: agents number the facts they report about each resource
(monotonically, across agent restarts); a fact is applied only when its sequence is
above the last one accepted for (kind, resource, host), so stale and duplicate facts
are dropped. Call `accept_fact` in the transaction that applies the fact."""

from __future__ import annotations

from uuid import UUID

from conductor.db.types import Connection, affected

_ACCEPT = """
INSERT INTO fact_sequences AS f (resource_kind, resource_id, host, last_seq)
VALUES ($1, $2, $3, $4)
ON CONFLICT (resource_kind, resource_id, host)
DO UPDATE SET last_seq = excluded.last_seq, updated_at = now()
WHERE f.last_seq < excluded.last_seq
RETURNING true"""


async def accept_fact(
    conn: Connection, kind: str, resource_id: str | UUID, host: str, seq: int
) -> bool:
    """True when `seq` is newer than anything accepted for this resource from `host`
    (and records it); False for a duplicate or stale fact."""
    return bool(await conn.fetchval(_ACCEPT, kind, str(resource_id), host, seq))


async def last_seq(conn: Connection, kind: str, resource_id: str | UUID, host: str) -> int | None:
    value = await conn.fetchval(
        "SELECT last_seq FROM fact_sequences "
        "WHERE resource_kind = $1 AND resource_id = $2 AND host = $3",
        kind,
        str(resource_id),
        host,
    )
    return None if value is None else int(value)


async def forget_resource(conn: Connection, kind: str, resource_id: str | UUID) -> int:
    """Drop the sequences of a resource that no longer exists; the count."""
    status = await conn.execute(
        "DELETE FROM fact_sequences WHERE resource_kind = $1 AND resource_id = $2",
        kind,
        str(resource_id),
    )
    return affected(status)


async def forget_host(conn: Connection, host: str) -> int:
    status = await conn.execute("DELETE FROM fact_sequences WHERE host = $1", host)
    return affected(status)
