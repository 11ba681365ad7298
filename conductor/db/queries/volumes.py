"""Volumes and their attachments (Cinder's tables, RBD backed).

Every status change is guarded by the status expected before it (`expected`), so two
conductors racing on one volume cannot both win: the loser gets None. A volume whose
task (creating, attaching, detaching, deleting) hangs carries `task_deadline`.
Attachments follow Cinder's flow: reserved -> attaching (with the host's connector and
the connection info) -> attached, and detaching -> detached (kept for history) or
deleted outright when an attach is rolled back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.sql import UNSET, Params, Unset
from conductor.db.types import Connection, as_dict, as_dicts, one

LIVE_ATTACHMENT = ("reserved", "attaching", "attached", "detaching")


async def create_volume(
    conn: Connection,
    *,
    volume_id: UUID,
    project_id: UUID,
    user_id: UUID,
    size_gb: int,
    name: str = "",
    description: str = "",
    availability_zone: str | None = None,
    metadata: Mapping[str, str] | None = None,
    task_deadline: datetime | None = None,
) -> dict[str, Any]:
    """A new volume in status `creating`."""
    return one(
        await conn.fetchrow(
            "INSERT INTO volumes (id, project_id, user_id, size_gb, name, description, "
            "availability_zone, metadata, task_deadline) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
            volume_id,
            project_id,
            user_id,
            size_gb,
            name,
            description,
            availability_zone,
            dict(metadata or {}),
            task_deadline,
        )
    )


async def get_volume(
    conn: Connection,
    volume_id: UUID,
    *,
    project_id: UUID | None = None,
    for_update: bool = False,
) -> dict[str, Any] | None:
    """A volume not deleted (of `project_id` when given); `for_update` locks it."""
    lock = " FOR UPDATE" if for_update else ""
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM volumes WHERE id = $1 AND NOT deleted "
            f"AND ($2::uuid IS NULL OR project_id = $2){lock}",
            volume_id,
            project_id,
        )
    )


async def list_volumes(
    conn: Connection,
    project_id: UUID | None,
    *,
    status: str | None = None,
    limit: int = 1000,
    marker: UUID | None = None,
) -> list[dict[str, Any]]:
    """Volumes of a project (every project for None), newest first, paged by id."""
    return as_dicts(
        await conn.fetch(
            """
        SELECT * FROM volumes v
        WHERE NOT v.deleted AND ($1::uuid IS NULL OR v.project_id = $1)
          AND ($2::text IS NULL OR v.status = $2)
          AND ($4::uuid IS NULL OR (v.created_at, v.id) < (
                SELECT created_at, id FROM volumes WHERE id = $4))
        ORDER BY v.created_at DESC, v.id DESC LIMIT $3""",
            project_id,
            status,
            limit,
            marker,
        )
    )


async def set_status(
    conn: Connection,
    volume_id: UUID,
    status: str,
    *,
    expected: Collection[str],
    task_deadline: datetime | None = None,
    host: str | Unset | None = UNSET,
    provider_location: str | Unset | None = UNSET,
) -> dict[str, Any] | None:
    """Move a volume from one of `expected` to `status` (the deadline is replaced: None
    clears it); None when the volume is gone or in another status."""
    params = Params(volume_id, status, task_deadline, list(expected))
    sets = ["status = $2", "task_deadline = $3", "updated_at = now()"]
    if not isinstance(host, Unset):
        sets.append(f"host = {params.add(host)}")
    if not isinstance(provider_location, Unset):
        sets.append(f"provider_location = {params.add(provider_location)}")
    return as_dict(
        await conn.fetchrow(
            f"UPDATE volumes SET {', '.join(sets)} "
            "WHERE id = $1 AND NOT deleted AND status = ANY($4) RETURNING *",
            *params.values,
        )
    )


async def mark_deleted(
    conn: Connection, volume_id: UUID, *, expected: Collection[str] = ("deleting",)
) -> dict[str, Any] | None:
    """Soft-delete a volume in one of `expected`; the row, or None."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE volumes SET status = 'deleted', deleted = true, deleted_at = now(), "
            "task_deadline = NULL, updated_at = now() "
            "WHERE id = $1 AND NOT deleted AND status = ANY($2) RETURNING *",
            volume_id,
            list(expected),
        )
    )


async def expired(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """Volumes whose task passed its deadline, locked (SKIP LOCKED: sweeps share them)."""
    return as_dicts(
        await conn.fetch(
            "SELECT * FROM volumes WHERE task_deadline < now() AND NOT deleted "
            "ORDER BY task_deadline LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
    )


# -- attachments ---------------------------------------------------------------------
async def reserve_attachment(
    conn: Connection,
    *,
    attachment_id: UUID,
    volume_id: UUID,
    instance_id: UUID,
    device: str | None = None,
    delete_on_termination: bool = False,
) -> dict[str, Any]:
    """Cinder's attachment_create: a `reserved` attachment (UniqueViolation when the
    volume already has a live attachment to this instance)."""
    return one(
        await conn.fetchrow(
            "INSERT INTO volume_attachments "
            "(id, volume_id, instance_id, device, delete_on_termination) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING *",
            attachment_id,
            volume_id,
            instance_id,
            device,
            delete_on_termination,
        )
    )


async def update_attachment(
    conn: Connection,
    attachment_id: UUID,
    status: str,
    *,
    expected: Collection[str],
    host: str | Unset | None = UNSET,
    device: str | Unset | None = UNSET,
    connector: Mapping[str, Any] | None = None,
    connection_info: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Move an attachment from one of `expected` to `status`: `attaching` with the
    connector and connection info (Cinder's attachment_update), `attached` (complete,
    stamps attached_at), `detaching`, `detached` (stamps detached_at)."""
    params = Params(attachment_id, status, list(expected))
    sets = [
        "status = $2",
        "attached_at = CASE WHEN $2 = 'attached' THEN now() ELSE attached_at END",
        "detached_at = CASE WHEN $2 = 'detached' THEN now() ELSE NULL END",
    ]
    if not isinstance(host, Unset):
        sets.append(f"attached_host = {params.add(host)}")
    if not isinstance(device, Unset):
        sets.append(f"device = {params.add(device)}")
    if connector is not None:
        sets.append(f"connector = {params.add(dict(connector))}")
    if connection_info is not None:
        sets.append(f"connection_info = {params.add(dict(connection_info))}")
    return as_dict(
        await conn.fetchrow(
            f"UPDATE volume_attachments SET {', '.join(sets)} "
            "WHERE id = $1 AND status = ANY($3) RETURNING *",
            *params.values,
        )
    )


async def delete_attachment(conn: Connection, attachment_id: UUID) -> dict[str, Any] | None:
    """Drop an attachment that never completed (a rolled-back attach)."""
    return as_dict(
        await conn.fetchrow(
            "DELETE FROM volume_attachments WHERE id = $1 RETURNING *", attachment_id
        )
    )


async def get_attachment(conn: Connection, attachment_id: UUID) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow("SELECT * FROM volume_attachments WHERE id = $1", attachment_id)
    )


async def live_attachment(
    conn: Connection, volume_id: UUID, instance_id: UUID | None = None
) -> dict[str, Any] | None:
    """The volume's attachment not yet detached (to `instance_id` when given)."""
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM volume_attachments WHERE volume_id = $1 "
            "AND ($2::uuid IS NULL OR instance_id = $2) AND status = ANY($3) "
            "ORDER BY created_at DESC LIMIT 1",
            volume_id,
            instance_id,
            list(LIVE_ATTACHMENT),
        )
    )


async def attachments_of_volumes(
    conn: Connection, volume_ids: Collection[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """The live attachments of each volume."""
    rows = await conn.fetch(
        "SELECT * FROM volume_attachments WHERE volume_id = ANY($1) AND status = ANY($2) "
        "ORDER BY created_at",
        list(volume_ids),
        list(LIVE_ATTACHMENT),
    )
    found: dict[UUID, list[dict[str, Any]]] = {v: [] for v in volume_ids}
    for row in rows:
        found[row["volume_id"]].append(dict(row))
    return found


async def attachments_of_instance(conn: Connection, instance_id: UUID) -> list[dict[str, Any]]:
    """The instance's live attachments, locked with their volumes (volume rows first)."""
    return as_dicts(
        await conn.fetch(
            "SELECT a.* FROM volume_attachments a JOIN volumes v ON v.id = a.volume_id "
            "WHERE a.instance_id = $1 AND a.status = ANY($2) "
            "ORDER BY a.volume_id FOR UPDATE OF v, a",
            instance_id,
            list(LIVE_ATTACHMENT),
        )
    )


async def reserve_boot_attachment(
    conn: Connection,
    *,
    attachment_id: UUID,
    volume_id: UUID,
    instance_id: UUID,
    device: str | None,
    boot_index: int | None,
    delete_on_termination: bool,
) -> dict[str, Any]:
    """A `reserved` attachment of a volume in a server's block device mapping, made
    when the server is created and completed when it spawns."""
    return one(
        await conn.fetchrow(
            "INSERT INTO volume_attachments "
            "(id, volume_id, instance_id, device, boot_index, delete_on_termination) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            attachment_id,
            volume_id,
            instance_id,
            device,
            boot_index,
            delete_on_termination,
        )
    )
