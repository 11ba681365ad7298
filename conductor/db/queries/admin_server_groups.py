"""Server groups with their live members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one

_SELECT = """
SELECT g.*, ARRAY(SELECT m.instance_id FROM server_group_members m
                  JOIN instances i ON i.id = m.instance_id
                  WHERE m.group_id = g.id AND NOT i.deleted ORDER BY i.created_at, i.id)
           AS members
FROM server_groups g"""


async def list_groups(
    conn: Connection, project_id: UUID | None, *, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """The groups of `project_id` (every project's with None), oldest first."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE $1::uuid IS NULL OR g.project_id = $1 "
        "ORDER BY g.created_at, g.id LIMIT $2 OFFSET $3",
        project_id,
        limit,
        offset,
    )
    return as_dicts(rows)


async def get_group(
    conn: Connection, group_id: UUID, project_id: UUID | None
) -> dict[str, Any] | None:
    """The group, when it belongs to `project_id` (any project's with None)."""
    return as_dict(
        await conn.fetchrow(
            f"{_SELECT} WHERE g.id = $1 AND ($2::uuid IS NULL OR g.project_id = $2)",
            group_id,
            project_id,
        )
    )


async def count_locked(conn: Connection, project_id: UUID) -> int:
    """How many groups the project has, under a transaction-scoped advisory lock per
    project so concurrent creates count one after the other."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('server_groups:' || $1::uuid::text, 0))",
        project_id,
    )
    return await count_groups(conn, project_id)


async def count_groups(conn: Connection, project_id: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM server_groups WHERE project_id = $1", project_id
    )
    return count


async def insert_group(
    conn: Connection,
    project_id: UUID,
    user_id: UUID,
    name: str,
    policy: str,
    rules: dict[str, Any],
) -> dict[str, Any]:
    row = one(
        await conn.fetchrow(
            "INSERT INTO server_groups (project_id, user_id, name, policy, rules) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            project_id,
            user_id,
            name,
            policy,
            rules,
        )
    )
    return one(await get_group(conn, row["id"], None))


async def delete_group(conn: Connection, group_id: UUID, project_id: UUID | None) -> bool:
    status = await conn.execute(
        "DELETE FROM server_groups WHERE id = $1 AND ($2::uuid IS NULL OR project_id = $2)",
        group_id,
        project_id,
    )
    return affected(status) == 1


async def lock_group(
    conn: Connection, group_id: UUID, project_id: UUID | None
) -> dict[str, Any] | None:
    """The group with its live members, its row locked until the transaction ends (so
    concurrent joins count one after the other)."""
    found = await conn.fetchval(
        "SELECT id FROM server_groups WHERE id = $1 AND ($2::uuid IS NULL OR project_id = $2) "
        "FOR UPDATE",
        group_id,
        project_id,
    )
    return None if found is None else await get_group(conn, group_id, project_id)


async def add_members(conn: Connection, group_id: UUID, instance_ids: Sequence[UUID]) -> None:
    await conn.executemany(
        "INSERT INTO server_group_members (group_id, instance_id) VALUES ($1, $2)",
        [(group_id, instance_id) for instance_id in instance_ids],
    )
