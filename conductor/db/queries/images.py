"""Images: metadata, status transitions and the location of the uploaded data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one

# public and community images, the project's own, and shared ones it accepted
_VISIBLE = """(i.visibility IN ('public', 'community') OR i.owner = $1
  OR (i.visibility = 'shared' AND EXISTS (
      SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.project_id = $1
      AND m.status = 'accepted')))"""

UPLOADABLE = ("queued", "saving", "uploading", "importing")


async def create_image(
    conn: Connection,
    *,
    name: str,
    owner: UUID | None,
    visibility: str = "shared",
    disk_format: str | None = None,
    container_format: str | None = None,
    min_disk: int = 0,
    min_ram: int = 0,
    protected: bool = False,
    properties: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    image_id: UUID | None = None,
) -> dict[str, Any]:
    return one(
        await conn.fetchrow(
            "INSERT INTO images (id, name, owner, visibility, disk_format, "
            "container_format, min_disk, min_ram, protected, properties, tags) "
            "VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "RETURNING *",
            image_id,
            name,
            owner,
            visibility,
            disk_format,
            container_format,
            min_disk,
            min_ram,
            protected,
            dict(properties or {}),
            sorted(set(tags)),
        )
    )


async def get_image(
    conn: Connection, image_id: UUID, *, project_id: UUID | None = None
) -> dict[str, Any] | None:
    """A live image; with `project_id`, only when that project may see it."""
    return as_dict(
        await conn.fetchrow(
            f"SELECT i.* FROM images i WHERE i.id = $2 AND i.deleted_at IS NULL "
            f"AND ($1::uuid IS NULL OR {_VISIBLE})",
            project_id,
            image_id,
        )
    )


async def list_images(
    conn: Connection, project_id: UUID, *, status: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Live images `project_id` may see (community ones only when it owns them), by name."""
    rows = await conn.fetch(
        f"SELECT i.* FROM images i WHERE i.deleted_at IS NULL AND {_VISIBLE} "
        "AND (i.visibility <> 'community' OR i.owner = $1) "
        "AND ($2::text IS NULL OR i.status = $2) ORDER BY i.name, i.id LIMIT $3",
        project_id,
        status,
        limit,
    )
    return as_dicts(rows)


async def set_status(
    conn: Connection, image_id: UUID, status: str, *, expected: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """Move to `status` when the current status is one of `expected`; None otherwise."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE images SET status = $2, updated_at = now() "
            "WHERE id = $1 AND deleted_at IS NULL AND ($3::text[] IS NULL OR status = ANY($3)) "
            "RETURNING *",
            image_id,
            status,
            None if expected is None else list(expected),
        )
    )


async def record_upload(
    conn: Connection,
    image_id: UUID,
    *,
    location: str,
    size: int,
    checksum: str,
    os_hash_algo: str = "sha512",
    os_hash_value: str | None = None,
    virtual_size: int | None = None,
) -> dict[str, Any] | None:
    """Data stored at `location`: the image becomes active (None unless it was uploadable)."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE images SET status = 'active', location = $2, size = $3, checksum = $4, "
            "os_hash_algo = $5, os_hash_value = $6, virtual_size = $7, updated_at = now() "
            "WHERE id = $1 AND status = ANY($8) RETURNING *",
            image_id,
            location,
            size,
            checksum,
            os_hash_algo,
            os_hash_value,
            virtual_size,
            list(UPLOADABLE),
        )
    )


async def update_properties(
    conn: Connection, image_id: UUID, set_: Mapping[str, Any], remove: Iterable[str] = ()
) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            "UPDATE images SET properties = (properties - $3::text[]) || $2, updated_at = now() "
            "WHERE id = $1 AND deleted_at IS NULL RETURNING *",
            image_id,
            dict(set_),
            list(remove),
        )
    )


async def mark_deleted(conn: Connection, image_id: UUID) -> dict[str, Any] | None:
    """Soft-delete an unprotected image; the row (with its location, to clean up) or None."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE images SET status = 'deleted', deleted_at = now(), updated_at = now() "
            "WHERE id = $1 AND deleted_at IS NULL AND NOT protected RETURNING *",
            image_id,
        )
    )


async def set_member(
    conn: Connection, image_id: UUID, project_id: UUID, status: str = "pending"
) -> None:
    await conn.execute(
        "INSERT INTO image_members (image_id, project_id, status) VALUES ($1, $2, $3) "
        "ON CONFLICT (image_id, project_id) DO UPDATE SET status = excluded.status",
        image_id,
        project_id,
        status,
    )


async def remove_member(conn: Connection, image_id: UUID, project_id: UUID) -> bool:
    status = await conn.execute(
        "DELETE FROM image_members WHERE image_id = $1 AND project_id = $2", image_id, project_id
    )
    return affected(status) == 1
