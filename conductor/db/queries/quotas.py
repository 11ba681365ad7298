"""Quota limits, usage and reservations.

`reserve` is the atomic check: for each resource (in name order, so concurrent callers
lock rows in the same order) one UPDATE raises `reserved` only WHERE in_use + reserved +
delta stays within the limit. PostgreSQL re-evaluates that WHERE on the latest row version
after waiting for a concurrent writer, so concurrent creates cannot exceed the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from conductor.db.types import Connection

UNLIMITED = -1

_LIMIT = """coalesce(
    (SELECT hard_limit FROM quotas WHERE project_id = $1 AND resource = $2),
    (SELECT hard_limit FROM quota_defaults WHERE resource = $2),
    -1)"""

_RESERVE = f"""
WITH lim AS (SELECT {_LIMIT} AS hard_limit)
UPDATE quota_usages u SET reserved = u.reserved + $3, updated_at = now()
FROM lim
WHERE u.project_id = $1 AND u.resource = $2
  AND (lim.hard_limit < 0 OR u.in_use + u.reserved + $3 <= lim.hard_limit)
RETURNING u.in_use, u.reserved"""


class QuotaExceeded(Exception):
    def __init__(
        self,
        project_id: UUID,
        resource: str,
        limit: int,
        in_use: int,
        reserved: int,
        requested: int,
    ) -> None:
        super().__init__(
            f"quota exceeded for {resource}: requested {requested}, limit {limit}, "
            f"in use {in_use}, reserved {reserved}"
        )
        self.project_id = project_id
        self.resource = resource
        self.limit = limit
        self.in_use = in_use
        self.reserved = reserved
        self.requested = requested


@dataclass(frozen=True)
class Reservation:
    id: UUID
    project_id: UUID
    deltas: dict[str, int]
    expires_at: datetime


async def set_limit(conn: Connection, project_id: UUID, resource: str, hard_limit: int) -> None:
    await conn.execute(
        "INSERT INTO quotas (project_id, resource, hard_limit) VALUES ($1, $2, $3) "
        "ON CONFLICT (project_id, resource) "
        "DO UPDATE SET hard_limit = excluded.hard_limit, updated_at = now()",
        project_id,
        resource,
        hard_limit,
    )


async def set_default(conn: Connection, resource: str, hard_limit: int) -> None:
    await conn.execute(
        "INSERT INTO quota_defaults (resource, hard_limit) VALUES ($1, $2) "
        "ON CONFLICT (resource) DO UPDATE SET hard_limit = excluded.hard_limit",
        resource,
        hard_limit,
    )


async def usage(conn: Connection, project_id: UUID) -> dict[str, dict[str, int]]:
    """{resource: {limit, in_use, reserved}} for every resource with a limit or a usage."""
    rows = await conn.fetch(
        """
        SELECT r.resource,
               coalesce(q.hard_limit, d.hard_limit, -1) AS limit,
               coalesce(u.in_use, 0) AS in_use, coalesce(u.reserved, 0) AS reserved
        FROM (SELECT resource FROM quota_defaults
              UNION SELECT resource FROM quotas WHERE project_id = $1
              UNION SELECT resource FROM quota_usages WHERE project_id = $1) r
        LEFT JOIN quota_defaults d ON d.resource = r.resource
        LEFT JOIN quotas q ON q.project_id = $1 AND q.resource = r.resource
        LEFT JOIN quota_usages u ON u.project_id = $1 AND u.resource = r.resource
        ORDER BY r.resource""",
        project_id,
    )
    return {row["resource"]: {k: row[k] for k in ("limit", "in_use", "reserved")} for row in rows}


async def _reserve_one(conn: Connection, project_id: UUID, resource: str, delta: int) -> None:
    await conn.execute(
        "INSERT INTO quota_usages (project_id, resource) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        project_id,
        resource,
    )
    if await conn.fetchrow(_RESERVE, project_id, resource, delta) is not None:
        return
    row = await conn.fetchrow(
        f"SELECT {_LIMIT} AS hard_limit, u.in_use, u.reserved FROM quota_usages u "
        "WHERE u.project_id = $1 AND u.resource = $2",
        project_id,
        resource,
    )
    assert row is not None
    raise QuotaExceeded(
        project_id, resource, row["hard_limit"], row["in_use"], row["reserved"], delta
    )


async def reserve(
    conn: Connection,
    project_id: UUID,
    deltas: Mapping[str, int],
    *,
    consumer_id: UUID | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> Reservation:
    """Reserve every delta or none (raises QuotaExceeded, nothing reserved)."""
    wanted = {r: d for r, d in sorted(deltas.items()) if d != 0}
    if any(d < 0 for d in wanted.values()):
        raise ValueError(f"reservation deltas must be positive: {dict(deltas)}")
    reservation_id = uuid4()
    async with conn.transaction():
        for resource, delta in wanted.items():
            await _reserve_one(conn, project_id, resource, delta)
        expires_at: datetime = await conn.fetchval("SELECT now() + $1::interval", ttl)
        await conn.executemany(
            "INSERT INTO quota_reservations "
            "(id, project_id, resource, amount, consumer_id, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (reservation_id, project_id, r, d, consumer_id, expires_at)
                for r, d in wanted.items()
            ],
        )
    return Reservation(reservation_id, project_id, wanted, expires_at)


async def _settle(conn: Connection, reservation_id: UUID, *, to_in_use: bool) -> int:
    async with conn.transaction():
        rows: list[Any] = await conn.fetch(
            "DELETE FROM quota_reservations WHERE id = $1 RETURNING project_id, resource, amount",
            reservation_id,
        )
        for row in sorted(rows, key=lambda r: r["resource"]):
            await conn.execute(
                "UPDATE quota_usages SET reserved = reserved - $3, "
                "in_use = in_use + CASE WHEN $4 THEN $3 ELSE 0 END, updated_at = now() "
                "WHERE project_id = $1 AND resource = $2",
                row["project_id"],
                row["resource"],
                row["amount"],
                to_in_use,
            )
    return len(rows)


async def commit(conn: Connection, reservation_id: UUID) -> int:
    """Turn a reservation into usage; the number of resources settled (0 if unknown)."""
    return await _settle(conn, reservation_id, to_in_use=True)


async def rollback(conn: Connection, reservation_id: UUID) -> int:
    """Drop a reservation without using it; the number of resources released."""
    return await _settle(conn, reservation_id, to_in_use=False)


async def release(conn: Connection, project_id: UUID, deltas: Mapping[str, int]) -> None:
    """Give back usage (e.g. when a server is deleted); never goes below zero."""
    async with conn.transaction():
        for resource, delta in sorted(deltas.items()):
            await conn.execute(
                "UPDATE quota_usages SET in_use = greatest(in_use - $3, 0), updated_at = now() "
                "WHERE project_id = $1 AND resource = $2",
                project_id,
                resource,
                delta,
            )


async def expired_reservations(conn: Connection, limit: int = 100) -> list[UUID]:
    """Ids of reservations past their expiry (roll each back with `rollback`)."""
    rows = await conn.fetch(
        "SELECT DISTINCT id FROM quota_reservations WHERE expires_at < now() LIMIT $1", limit
    )
    return [row["id"] for row in rows]
