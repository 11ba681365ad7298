"""Instances: insert, read, state changes guarded by the expected state (optimistic: a
change whose expectation no longer holds updates nothing and returns None), task
deadlines and the sweep of expired ones. Listing with filters: `instance_list`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.sql import UNSET, Params, Unset, matches_any
from conductor.db.types import Connection, as_dict, as_dicts

# columns `update_state` may change
MUTABLE = frozenset(
    """
    vm_state task_state power_state task_deadline host node launched_at terminated_at
    availability_zone attempts alternates progress locked locked_reason request_spec
    hostname description name flavor flavor_id image_id key_name
    """.split()
)

INSTANCE_SELECT = """
SELECT i.*,
       coalesce((SELECT jsonb_object_agg(m.key, m.value) FROM instance_metadata m
                 WHERE m.instance_id = i.id), '{}'::jsonb) AS metadata,
       ARRAY(SELECT t.tag FROM instance_tags t WHERE t.instance_id = i.id ORDER BY t.tag)
           AS tags
FROM instances i"""

Expected = str | None | Sequence[str | None] | Unset


async def insert_instance(
    conn: Connection,
    *,
    project_id: UUID,
    user_id: UUID,
    name: str,
    flavor: Mapping[str, Any],
    flavor_id: UUID | None = None,
    image_id: UUID | None = None,
    instance_id: UUID | None = None,
    task_state: str | None = "scheduling",
    task_deadline: datetime | None = None,
    availability_zone: str | None = None,
    key_name: str | None = None,
    key_data: str | None = None,
    user_data: str | None = None,
    config_drive: bool = False,
    request_spec: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    description: str | None = None,
    hostname: str | None = None,
    metadata: Mapping[str, str] | None = None,
    tags: Iterable[str] = (),
) -> dict[str, Any] | None:
    """Insert a BUILDING instance; None when `idempotency_key` was used by the project
    already (see `get_by_idempotency_key`)."""
    async with conn.transaction():
        new_id = await conn.fetchval(
            """
            INSERT INTO instances (id, project_id, user_id, name, flavor, flavor_id, image_id,
                task_state, task_deadline, availability_zone, key_name, key_data, user_data,
                config_drive, request_spec, idempotency_key, description, hostname)
            VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10,
                    $11, $12, $13, $14, $15, $16, $17, $18)
            ON CONFLICT (project_id, idempotency_key) DO NOTHING
            RETURNING id""",
            instance_id,
            project_id,
            user_id,
            name,
            dict(flavor),
            flavor_id,
            image_id,
            task_state,
            task_deadline,
            availability_zone,
            key_name,
            key_data,
            user_data,
            config_drive,
            dict(request_spec or {}),
            idempotency_key,
            description,
            hostname,
        )
        if new_id is None:
            return None
        if metadata:
            await conn.executemany(
                "INSERT INTO instance_metadata (instance_id, key, value) VALUES ($1, $2, $3)",
                [(new_id, k, v) for k, v in metadata.items()],
            )
        if tags:
            await conn.execute(
                "INSERT INTO instance_tags (instance_id, tag) "
                "SELECT DISTINCT $1::uuid, tag FROM unnest($2::text[]) AS tag",
                new_id,
                list(tags),
            )
        return await get_instance(conn, new_id)


async def get_instance(
    conn: Connection,
    instance_id: UUID,
    *,
    project_id: UUID | None = None,
    include_deleted: bool = False,
    for_update: bool = False,
) -> dict[str, Any] | None:
    """The instance with `metadata` and `tags`; `for_update` locks its row (use it inside
    a transaction before a read-modify-write)."""
    lock = " FOR UPDATE OF i" if for_update else ""
    return as_dict(
        await conn.fetchrow(
            f"{INSTANCE_SELECT} WHERE i.id = $1 AND ($2::uuid IS NULL OR i.project_id = $2) "
            f"AND ($3 OR NOT i.deleted){lock}",
            instance_id,
            project_id,
            include_deleted,
        )
    )


async def get_by_idempotency_key(
    conn: Connection, project_id: UUID, key: str
) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            f"{INSTANCE_SELECT} WHERE i.project_id = $1 AND i.idempotency_key = $2", project_id, key
        )
    )


async def update_state(
    conn: Connection,
    instance_id: UUID,
    *,
    expected_task_state: Expected = UNSET,
    expected_vm_state: Expected = UNSET,
    expected_attempts: int | None = None,
    **changes: Any,
) -> dict[str, Any] | None:
    """Set the given columns (see MUTABLE) when the instance is live and in the expected
    task/vm state (and, given `expected_attempts`, still at that build attempt: the count
    of failed attempts `record_build_failure` keeps); the updated row (without
    metadata/tags) or None when it was not. Clearing task_state also clears
    task_deadline unless one is given."""
    unknown = changes.keys() - MUTABLE
    if unknown:
        raise ValueError(f"instances.update_state cannot set {sorted(unknown)}")
    if changes.get("task_state", UNSET) is None:
        changes.setdefault("task_deadline", None)
    params = Params(instance_id)
    sets = [f"{column} = {params.add(value)}" for column, value in changes.items()]
    sets.append("updated_at = now()")
    where = ["i.id = $1", "NOT i.deleted"]
    if not isinstance(expected_task_state, Unset):
        where.append(matches_any("i.task_state", params, expected_task_state))
    if not isinstance(expected_vm_state, Unset):
        where.append(matches_any("i.vm_state", params, expected_vm_state))
    if expected_attempts is not None:
        where.append(f"i.attempts = {params.add(expected_attempts)}")
    return as_dict(
        await conn.fetchrow(
            f"UPDATE instances i SET {', '.join(sets)} WHERE {' AND '.join(where)} RETURNING i.*",
            *params.values,
        )
    )


async def set_deadline(
    conn: Connection,
    instance_id: UUID,
    deadline: datetime | None,
    *,
    expected_task_state: Expected = UNSET,
) -> bool:
    row = await update_state(
        conn, instance_id, expected_task_state=expected_task_state, task_deadline=deadline
    )
    return row is not None


async def bump_attempts(
    conn: Connection, instance_id: UUID, alternates: Sequence[Mapping[str, Any]]
) -> int | None:
    """Count one more scheduling attempt and keep the remaining alternates; the count."""
    value = await conn.fetchval(
        "UPDATE instances SET attempts = attempts + 1, alternates = $2, updated_at = now() "
        "WHERE id = $1 AND NOT deleted RETURNING attempts",
        instance_id,
        [dict(a) for a in alternates],
    )
    return None if value is None else int(value)


async def record_build_failure(
    conn: Connection, instance_id: UUID, host: str | None, reason: str
) -> tuple[int, list[dict[str, Any]]]:
    """Count a failed build attempt and remember why; (attempts, every failure so far)."""
    row = await conn.fetchrow(
        "UPDATE instances SET attempts = attempts + 1, "
        "build_failures = build_failures || jsonb_build_array(jsonb_build_object("
        "'host', $2::text, 'reason', $3::text)), updated_at = now() "
        "WHERE id = $1 AND NOT deleted RETURNING attempts, build_failures",
        instance_id,
        host,
        reason,
    )
    if row is None:
        return 0, []
    return int(row["attempts"]), list(row["build_failures"])


async def expired_deadlines(
    conn: Connection, *, now: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Live instances whose task deadline has passed, oldest first, locked FOR UPDATE SKIP
    LOCKED so several conductors sweep disjoint rows. Call inside a transaction and settle
    each row (new state, cleared or extended deadline) before it commits."""
    if not conn.is_in_transaction():
        raise RuntimeError("expired_deadlines locks rows: call it inside a transaction")
    return as_dicts(
        await conn.fetch(
            "SELECT id, project_id, user_id, name, host, vm_state, task_state, task_deadline, "
            "attempts FROM instances "
            "WHERE task_deadline < coalesce($1, now()) AND NOT deleted "
            "ORDER BY task_deadline LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
    )


async def mark_deleted(conn: Connection, instance_id: UUID) -> dict[str, Any] | None:
    """Soft-delete: vm_state deleted, no task, terminated now; the row or None."""
    return as_dict(
        await conn.fetchrow(
            "UPDATE instances SET deleted = true, deleted_at = now(), vm_state = 'deleted', "
            "task_state = NULL, task_deadline = NULL, power_state = 0, "
            "terminated_at = coalesce(terminated_at, now()), updated_at = now() "
            "WHERE id = $1 AND NOT deleted RETURNING *",
            instance_id,
        )
    )
