"""Compute hosts as the operator APIs show them: as services (enabled, forced down, up,
zone), as hypervisors (capacity and usage of the root provider) and grouped by zone.

A host's zone is the one an aggregate it belongs to gives it, else the zone its agent
registered with, else "nova": the same rule as the scheduler's host view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, as_dicts

ZONE_OF_HOST = """coalesce(
    (SELECT a.availability_zone FROM aggregate_hosts ah JOIN aggregates a
     ON a.id = ah.aggregate_id WHERE ah.host_id = h.id AND a.availability_zone IS NOT NULL
     ORDER BY a.name LIMIT 1),
    h.availability_zone, 'nova')"""

_SERVICES = f"""
SELECT h.id, h.number, h.name AS host, h.enabled, h.disabled_reason, h.forced_down,
       h.last_heartbeat_at AS updated_at, h.capabilities,
       (NOT h.forced_down AND h.last_heartbeat_at > now() - $1::interval) AS is_up,
       {ZONE_OF_HOST} AS zone
FROM hosts h
WHERE 'compute' = ANY(h.roles)
  AND ($2::text IS NULL OR h.name = $2)
  AND ($3::uuid IS NULL OR h.id = $3)
  AND ($4::bigint IS NULL OR h.number = $4)
  AND ($5::text IS NULL OR strpos(h.name, $5) > 0)
ORDER BY h.name"""

_USAGE = """
SELECT rp.host_id, i.resource_class, i.total,
       coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.provider_id = rp.id
                 AND a.resource_class = i.resource_class), 0)::bigint AS used
FROM resource_providers rp JOIN inventories i ON i.provider_id = rp.id
WHERE rp.host_id = ANY($1) AND rp.parent_provider_id IS NULL"""

_SERVERS = """
SELECT h.id AS host_id, i.id, i.name, i.task_state FROM instances i JOIN hosts h ON h.name = i.host
WHERE h.id = ANY($1) AND NOT i.deleted ORDER BY i.created_at, i.id"""


async def compute_services(
    conn: Connection,
    down_after: timedelta,
    *,
    host: str | None = None,
    host_id: UUID | None = None,
    number: int | None = None,
    name_contains: str | None = None,
) -> list[dict[str, Any]]:
    """Compute hosts as services, by name, optionally narrowed down."""
    rows = await conn.fetch(_SERVICES, down_after, host, host_id, number, name_contains)
    return as_dicts(rows)


async def usage_by_host(
    conn: Connection, host_ids: Sequence[UUID]
) -> dict[UUID, dict[str, tuple[int, int]]]:
    """{host: {resource class: (total, used)}} of each host's root provider."""
    found: dict[UUID, dict[str, tuple[int, int]]] = {}
    for row in await conn.fetch(_USAGE, list(host_ids)):
        found.setdefault(row["host_id"], {})[row["resource_class"]] = (row["total"], row["used"])
    return found


async def servers_by_host(
    conn: Connection, host_ids: Sequence[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """{host: [{id, name, task_state}]} of the live servers on each host."""
    found: dict[UUID, list[dict[str, Any]]] = {}
    for row in await conn.fetch(_SERVERS, list(host_ids)):
        found.setdefault(row["host_id"], []).append(dict(row))
    return found


async def set_service(
    conn: Connection,
    host_id: UUID,
    *,
    enabled: bool | None,
    disabled_reason: str | None,
    forced_down: bool | None,
) -> bool:
    """Change what is given (None keeps a field); enabling clears the reason."""
    row = await conn.fetchrow(
        """
        UPDATE hosts SET
            enabled = coalesce($2, enabled),
            disabled_reason = CASE WHEN coalesce($2, enabled) THEN NULL
                                   WHEN $2 IS NULL AND $3::text IS NULL THEN disabled_reason
                                   ELSE $3 END,
            forced_down = coalesce($4, forced_down),
            updated_at = now()
        WHERE id = $1 RETURNING id""",
        host_id,
        enabled,
        disabled_reason,
        forced_down,
    )
    return row is not None


async def live_servers_on(conn: Connection, host_id: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM instances i JOIN hosts h ON h.name = i.host "
        "WHERE h.id = $1 AND NOT i.deleted",
        host_id,
    )
    return count
