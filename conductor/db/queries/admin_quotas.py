"""Quota reads and writes of the quota-sets API that conductor/db/queries/quotas.py
does not cover: one resource's limit, the defaults, forgetting a project's limits."""

from __future__ import annotations

from uuid import UUID

from conductor.db.queries.quotas import UNLIMITED
from conductor.db.types import Connection


async def limit_of(conn: Connection, project_id: UUID | None, resource: str) -> int:
    """The project's limit of `resource` (its own, else the default, else unlimited)."""
    limit: int | None = await conn.fetchval(
        "SELECT coalesce((SELECT hard_limit FROM quotas WHERE project_id = $1 "
        "AND resource = $2), (SELECT hard_limit FROM quota_defaults WHERE resource = $2))",
        project_id,
        resource,
    )
    return UNLIMITED if limit is None else limit


async def defaults(conn: Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT resource, hard_limit FROM quota_defaults ORDER BY resource")
    return {row["resource"]: row["hard_limit"] for row in rows}


async def delete_limits(conn: Connection, project_id: UUID) -> None:
    await conn.execute("DELETE FROM quotas WHERE project_id = $1", project_id)


async def lock_project(conn: Connection, project_id: UUID) -> bool:
    """Lock the project's row until the transaction ends; False when there is none."""
    found = await conn.fetchval("SELECT true FROM projects WHERE id = $1 FOR UPDATE", project_id)
    return bool(found)
