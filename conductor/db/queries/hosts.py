"""Hosts (one node agent each): registration, heartbeats, enable/disable, traits.

An agent registers on every start with a fresh `incarnation` (a uuid4) and then
heartbeats with an increasing `sequence`; a heartbeat from an older incarnation or with
an old sequence is refused, so a restarted agent is never confused with its predecessor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one

DOWN_AFTER = timedelta(seconds=60)

_IS_UP = "(NOT h.forced_down AND h.last_heartbeat_at > now() - $1::interval)"

HeartbeatResult = Literal["ok", "stale", "reregister"]


async def register_host(
    conn: Connection,
    name: str,
    roles: Sequence[str],
    *,
    incarnation: UUID,
    availability_zone: str | None = None,
    agent_version: str | None = None,
    capabilities: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Insert or refresh the host and its root resource provider; the host row plus
    `root_provider_id` and `generation` (of that provider)."""
    async with conn.transaction():
        host = one(
            await conn.fetchrow(
                """
            INSERT INTO hosts (name, roles, agent_incarnation, availability_zone,
                               agent_version, capabilities)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (name) DO UPDATE SET
                roles = excluded.roles,
                agent_sequence = CASE WHEN hosts.agent_incarnation = excluded.agent_incarnation
                                      THEN hosts.agent_sequence ELSE 0 END,
                agent_incarnation = excluded.agent_incarnation,
                availability_zone = coalesce(excluded.availability_zone,
                                             hosts.availability_zone),
                agent_version = excluded.agent_version,
                capabilities = excluded.capabilities,
                last_heartbeat_at = now(), updated_at = now()
            RETURNING *""",
                name,
                sorted(set(roles)),
                incarnation,
                availability_zone,
                agent_version,
                dict(capabilities or {}),
            )
        )
        provider = one(
            await conn.fetchrow(
                """
            INSERT INTO resource_providers (name, host_id, kind) VALUES ($1, $2, 'compute')
            ON CONFLICT (host_id) WHERE parent_provider_id IS NULL AND host_id IS NOT NULL
            DO UPDATE SET name = excluded.name
            RETURNING id, generation""",
                name,
                host["id"],
            )
        )
    return {**host, "root_provider_id": provider["id"], "generation": provider["generation"]}


async def heartbeat(
    conn: Connection, name: str, incarnation: UUID, sequence: int
) -> HeartbeatResult:
    """Record a heartbeat: "ok", "stale" (old sequence) or "reregister" (unknown host or
    another incarnation: the agent must register again)."""
    accepted = await conn.fetchval(
        "UPDATE hosts SET last_heartbeat_at = now(), agent_sequence = $3 "
        "WHERE name = $1 AND agent_incarnation = $2 AND agent_sequence < $3 RETURNING true",
        name,
        incarnation,
        sequence,
    )
    if accepted:
        return "ok"
    current = await conn.fetchval("SELECT agent_incarnation FROM hosts WHERE name = $1", name)
    return "stale" if current == incarnation else "reregister"


async def get_host(
    conn: Connection, name: str, *, down_after: timedelta = DOWN_AFTER
) -> dict[str, Any] | None:
    """The host with `is_up`, `traits` and `aggregates` (names)."""
    return as_dict(
        await conn.fetchrow(
            f"""
        SELECT h.*, {_IS_UP} AS is_up,
               ARRAY(SELECT t.trait FROM host_traits t WHERE t.host_id = h.id
                     ORDER BY t.trait) AS traits,
               ARRAY(SELECT a.name FROM aggregate_hosts ah JOIN aggregates a
                     ON a.id = ah.aggregate_id WHERE ah.host_id = h.id
                     ORDER BY a.name) AS aggregates
        FROM hosts h WHERE h.name = $2""",
            down_after,
            name,
        )
    )


async def list_hosts(
    conn: Connection, *, role: str | None = None, down_after: timedelta = DOWN_AFTER
) -> list[dict[str, Any]]:
    """Every host (optionally of one role) with `is_up`, by name."""
    rows = await conn.fetch(
        f"SELECT h.*, {_IS_UP} AS is_up FROM hosts h "
        "WHERE $2::text IS NULL OR $2 = ANY(h.roles) ORDER BY h.name",
        down_after,
        role,
    )
    return as_dicts(rows)


async def set_enabled(
    conn: Connection, name: str, enabled: bool, *, reason: str | None = None
) -> dict[str, Any] | None:
    """Enable (clearing the reason) or disable with a reason; the host row or None."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE hosts SET enabled = $2, disabled_reason = CASE WHEN $2 THEN NULL ELSE $3 END, "
            "updated_at = now() WHERE name = $1 RETURNING *",
            name,
            enabled,
            reason,
        )
    )


async def set_forced_down(conn: Connection, name: str, forced_down: bool) -> bool:
    status = await conn.execute(
        "UPDATE hosts SET forced_down = $2, updated_at = now() WHERE name = $1",
        name,
        forced_down,
    )
    return affected(status) == 1


async def set_availability_zone(conn: Connection, name: str, zone: str | None) -> bool:
    status = await conn.execute(
        "UPDATE hosts SET availability_zone = $2, updated_at = now() WHERE name = $1",
        name,
        zone,
    )
    return affected(status) == 1


async def set_traits(conn: Connection, host_id: UUID, traits: Iterable[str]) -> None:
    """Replace the host's traits with `traits`."""
    wanted = sorted(set(traits))
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM host_traits WHERE host_id = $1 AND NOT (trait = ANY($2))",
            host_id,
            wanted,
        )
        await conn.execute(
            "INSERT INTO host_traits (host_id, trait) SELECT $1, unnest($2::text[]) "
            "ON CONFLICT DO NOTHING",
            host_id,
            wanted,
        )


async def delete_host(conn: Connection, name: str) -> bool:
    """Delete a host and its providers; fails (ForeignKeyViolation) while allocations exist."""
    return affected(await conn.execute("DELETE FROM hosts WHERE name = $1", name)) == 1


async def capabilities_of(conn: Connection, host_ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    """{host: the capabilities its agent registered with}."""
    rows = await conn.fetch("SELECT id, capabilities FROM hosts WHERE id = ANY($1)", list(host_ids))
    return {row["id"]: dict(row["capabilities"] or {}) for row in rows}


async def count_failed_build(conn: Connection, name: str) -> None:
    """One more build failed on host `name` (the build failure weigher sinks it)."""
    await conn.execute("UPDATE hosts SET failed_builds = failed_builds + 1 WHERE name = $1", name)


async def reset_failed_builds(conn: Connection, name: str) -> None:
    """A build succeeded on host `name`: its earlier failures no longer count."""
    await conn.execute(
        "UPDATE hosts SET failed_builds = 0 WHERE name = $1 AND failed_builds > 0", name
    )
