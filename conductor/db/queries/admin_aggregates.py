"""Aggregates by Nova's integer id, and the rule that keeps a host in one availability
zone: the zones a host's other aggregates give it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, as_dict, as_dicts

_SELECT = """
SELECT a.id, a.number, a.name, a.metadata, a.availability_zone, a.created_at, a.updated_at,
       ARRAY(SELECT h.name FROM aggregate_hosts ah JOIN hosts h ON h.id = ah.host_id
             WHERE ah.aggregate_id = a.id ORDER BY h.name) AS hosts
FROM aggregates a"""


async def list_aggregates(conn: Connection) -> list[dict[str, Any]]:
    return as_dicts(await conn.fetch(f"{_SELECT} ORDER BY a.number"))


async def get_by_number(
    conn: Connection, number: int, *, lock: bool = False
) -> dict[str, Any] | None:
    """The aggregate; with `lock`, its row stays locked until the transaction ends."""
    suffix = " FOR UPDATE OF a" if lock else ""
    return as_dict(await conn.fetchrow(f"{_SELECT} WHERE a.number = $1{suffix}", number))


async def rename(conn: Connection, aggregate_id: UUID, name: str) -> None:
    """Raises asyncpg.UniqueViolationError when another aggregate has that name."""
    await conn.execute(
        "UPDATE aggregates SET name = $2, updated_at = now() WHERE id = $1", aggregate_id, name
    )


async def other_zones(
    conn: Connection, aggregate_id: UUID, host_names: Sequence[str]
) -> dict[str, set[str]]:
    """{host: zones given to it by aggregates other than `aggregate_id`}, for the hosts
    named that are in any such zone."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('aggregate_zones', 0))")
    rows = await conn.fetch(
        "SELECT h.name, a.availability_zone FROM aggregate_hosts ah "
        "JOIN hosts h ON h.id = ah.host_id JOIN aggregates a ON a.id = ah.aggregate_id "
        "WHERE a.id <> $1 AND h.name = ANY($2) AND a.availability_zone IS NOT NULL",
        aggregate_id,
        list(host_names),
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["name"], set()).add(row["availability_zone"])
    return found


async def host_exists(conn: Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM hosts WHERE name = $1", name))
