"""Listing instances: by project with filters and pages, and by host."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.queries.instances import INSTANCE_SELECT
from conductor.db.sql import Params, matches_any
from conductor.db.types import Connection, as_dicts


@dataclass(frozen=True)
class InstanceFilter:
    name: str | None = None  # case-insensitive substring
    vm_states: Sequence[str] | None = None
    task_states: Sequence[str | None] | None = None
    host: str | None = None
    image_id: UUID | None = None
    flavor_id: UUID | None = None
    tags: Sequence[str] = ()  # all of these
    tags_any: Sequence[str] = ()  # at least one of these
    changes_since: datetime | None = None
    ids: Sequence[UUID] | None = None
    include_deleted: bool = False


def _where(project_id: UUID | None, f: InstanceFilter, params: Params) -> list[str]:
    where = [] if f.include_deleted else ["NOT i.deleted"]
    if project_id is not None:
        where.append(f"i.project_id = {params.add(project_id)}")
    if f.name:
        where.append(f"strpos(lower(i.name), lower({params.add(f.name)})) > 0")
    if f.vm_states is not None:
        where.append(f"i.vm_state = ANY({params.add(list(f.vm_states))})")
    if f.task_states is not None:
        where.append(matches_any("i.task_state", params, list(f.task_states)))
    for column in ("host", "image_id", "flavor_id"):
        if (value := getattr(f, column)) is not None:
            where.append(f"i.{column} = {params.add(value)}")
    if f.tags:
        where.append(
            f"ARRAY(SELECT t.tag FROM instance_tags t WHERE t.instance_id = i.id) "
            f"@> {params.add(list(f.tags))}::text[]"
        )
    if f.tags_any:
        where.append(
            f"EXISTS (SELECT 1 FROM instance_tags t WHERE t.instance_id = i.id "
            f"AND t.tag = ANY({params.add(list(f.tags_any))}))"
        )
    if f.changes_since is not None:
        where.append(f"i.updated_at >= {params.add(f.changes_since)}")
    if f.ids is not None:
        where.append(f"i.id = ANY({params.add(list(f.ids))})")
    return where


async def list_instances(
    conn: Connection,
    project_id: UUID | None,
    filters: InstanceFilter = InstanceFilter(),
    *,
    limit: int = 1000,
    marker: UUID | None = None,
) -> list[dict[str, Any]]:
    """Instances of `project_id` (None: every project), newest first; `marker` is the id
    of the last instance of the previous page."""
    params = Params()
    where = _where(project_id, filters, params)
    if marker is not None:
        m = params.add(marker)
        where.append(
            f"(i.created_at, i.id) < (SELECT created_at, id FROM instances WHERE id = {m})"
        )
    sql = (
        f"{INSTANCE_SELECT} WHERE {' AND '.join(where) or 'true'} "
        f"ORDER BY i.created_at DESC, i.id DESC LIMIT {params.add(limit)}"
    )
    return as_dicts(await conn.fetch(sql, *params.values))


async def list_on_host(conn: Connection, host: str) -> list[dict[str, Any]]:
    """Live instances the database places on `host` (for reconciling an agent snapshot)."""
    return as_dicts(
        await conn.fetch(
            "SELECT id, name, vm_state, task_state, power_state, project_id FROM instances "
            "WHERE host = $1 AND NOT deleted ORDER BY id",
            host,
        )
    )
