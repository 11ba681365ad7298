"""Volumes as the Block Storage API creates, lists and changes them (the lifecycle steps
shared with attachments are in conductor/db/queries/volumes.py).

Extending records the target size in `extend_to_gb` until the storage agent answers,
so that a failure gives back exactly the gigabytes charged for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.sql import Params
from conductor.db.types import Connection, as_dict, as_dicts, one


async def create_volume(
    conn: Connection,
    *,
    volume_id: UUID,
    project_id: UUID,
    user_id: UUID,
    size_gb: int,
    name: str,
    description: str,
    availability_zone: str | None,
    metadata: Mapping[str, str],
    image_id: UUID | None,
    volume_type: str | None,
    multiattach: bool,
    task_deadline: datetime,
) -> dict[str, Any]:
    """A new volume in status `creating`; one made from an image is bootable."""
    return one(
        await conn.fetchrow(
            "INSERT INTO volumes (id, project_id, user_id, size_gb, name, description, "
            "availability_zone, metadata, image_id, bootable, volume_type, multiattach, "
            "task_deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::uuid, "
            "$9::uuid IS NOT NULL, $10, $11, $12) RETURNING *",
            volume_id,
            project_id,
            user_id,
            size_gb,
            name,
            description,
            availability_zone,
            dict(metadata),
            image_id,
            volume_type,
            multiattach,
            task_deadline,
        )
    )


async def find_volumes(
    conn: Connection,
    project_id: UUID | None,
    *,
    name: str | None = None,
    status: str | None = None,
    limit: int = 1000,
    marker: UUID | None = None,
) -> list[dict[str, Any]]:
    """Volumes of a project (every project for None), newest first, paged by marker."""
    return as_dicts(
        await conn.fetch(
            """
        SELECT * FROM volumes v
        WHERE NOT v.deleted AND ($1::uuid IS NULL OR v.project_id = $1)
          AND ($2::text IS NULL OR v.name = $2)
          AND ($3::text IS NULL OR v.status = $3)
          AND ($5::uuid IS NULL OR (v.created_at, v.id) < (
                SELECT created_at, id FROM volumes WHERE id = $5))
        ORDER BY v.created_at DESC, v.id DESC LIMIT $4""",
            project_id,
            name,
            status,
            limit,
            marker,
        )
    )


async def update_volume(
    conn: Connection, volume_id: UUID, columns: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Set `columns` (names from the caller, never from users) of a live volume."""
    params = Params(volume_id)
    sets = ["updated_at = now()"]
    sets += [f"{column} = {params.add(value)}" for column, value in columns.items()]
    return as_dict(
        await conn.fetchrow(
            f"UPDATE volumes SET {', '.join(sets)} WHERE id = $1 AND NOT deleted RETURNING *",
            *params.values,
        )
    )


async def start_extend(
    conn: Connection, volume_id: UUID, new_size_gb: int
) -> dict[str, Any] | None:
    """available -> extending towards `new_size_gb`; None when not available."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE volumes SET status = 'extending', extend_to_gb = $2, updated_at = now() "
            "WHERE id = $1 AND NOT deleted AND status = 'available' RETURNING *",
            volume_id,
            new_size_gb,
        )
    )


async def finish_extend(conn: Connection, volume_id: UUID, size_gb: int) -> dict[str, Any] | None:
    """extending -> available at `size_gb` (what the backend reports)."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE volumes SET status = 'available', size_gb = $2, extend_to_gb = NULL, "
            "updated_at = now() WHERE id = $1 AND NOT deleted AND status = 'extending' "
            "RETURNING *",
            volume_id,
            size_gb,
        )
    )


async def fail_extend(conn: Connection, volume_id: UUID) -> dict[str, Any] | None:
    """extending -> error_extending; the row with `pending_gb`, the size it was going to."""
    return as_dict(
        await conn.fetchrow(
            """
        UPDATE volumes v SET status = 'error_extending', extend_to_gb = NULL, updated_at = now()
        FROM (SELECT id, extend_to_gb FROM volumes WHERE id = $1 FOR UPDATE) old
        WHERE v.id = old.id AND NOT v.deleted AND v.status = 'extending'
        RETURNING v.*, old.extend_to_gb AS pending_gb""",
            volume_id,
        )
    )


async def quota_defaults(conn: Connection, resources: list[str]) -> dict[str, dict[str, int]]:
    """{resource: {limit}} of the defaults every project starts with."""
    rows = await conn.fetch(
        "SELECT resource, hard_limit FROM quota_defaults WHERE resource = ANY($1)", resources
    )
    return {row["resource"]: {"limit": row["hard_limit"]} for row in rows}
