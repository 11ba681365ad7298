"""Images as the Image API reads and changes them: filtered, sorted, paged listings and
partial updates (conductor/db/queries/images.py has the create/upload/delete steps).

Paging is by keyset: the rows after the marker in (sort key, id) order, so pages stay
stable while images come and go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conductor.db.queries.images import _VISIBLE
from conductor.db.sql import Params
from conductor.db.types import Connection, as_dict, as_dicts

# sort key -> an SQL expression without NULLs (tuple comparisons need values)
SORT_KEYS = {
    "name": "i.name",
    "status": "i.status",
    "created_at": "i.created_at",
    "updated_at": "i.updated_at",
    "size": "coalesce(i.size, -1)",
    "id": "i.id::text",
    "disk_format": "coalesce(i.disk_format, '')",
    "visibility": "i.visibility",
}


@dataclass(frozen=True)
class ImageFilter:
    """What a listing asks for; `project_id` None means every image (an admin)."""

    project_id: UUID | None
    ids: Sequence[UUID] | None = None
    name: str | None = None
    status: str | None = None
    visibility: str | None = None  # None: what Glance lists by default; "all": any
    owner: UUID | None = None
    tags: Sequence[str] = ()


def _conditions(flt: ImageFilter, params: Params) -> list[str]:
    where = ["i.deleted_at IS NULL"]
    if flt.project_id is not None:
        where.append(_VISIBLE.replace("$1", params.add(flt.project_id)))
    if flt.visibility is None and flt.project_id is not None:
        # community images are listed only when asked for (or owned)
        where.append(f"(i.visibility <> 'community' OR i.owner = {params.add(flt.project_id)})")
    elif flt.visibility not in (None, "all"):
        where.append(f"i.visibility = {params.add(flt.visibility)}")
    if flt.ids is not None:
        where.append(f"i.id = ANY({params.add(list(flt.ids))}::uuid[])")
    if flt.name is not None:
        where.append(f"i.name = {params.add(flt.name)}")
    if flt.status is not None:
        where.append(f"i.status = {params.add(flt.status)}")
    if flt.owner is not None:
        where.append(f"i.owner = {params.add(flt.owner)}")
    if flt.tags:
        where.append(f"i.tags @> {params.add(list(flt.tags))}::text[]")
    return where


async def find_images(
    conn: Connection,
    flt: ImageFilter,
    *,
    limit: int,
    marker: UUID | None = None,
    sort_key: str = "created_at",
    sort_dir: str = "desc",
) -> list[dict[str, Any]]:
    """Up to `limit` images after `marker` (which must be one the filter finds)."""
    key = SORT_KEYS[sort_key]
    order = "DESC" if sort_dir == "desc" else "ASC"
    params = Params()
    where = _conditions(flt, params)
    if marker is not None:
        op = "<" if order == "DESC" else ">"
        where.append(
            f"({key}, i.id) {op} (SELECT {key}, i.id FROM images i "
            f"WHERE i.id = {params.add(marker)})"
        )
    rows = await conn.fetch(
        f"SELECT i.* FROM images i WHERE {' AND '.join(where)} "
        f"ORDER BY {key} {order}, i.id {order} LIMIT {params.add(limit)}",
        *params.values,
    )
    return as_dicts(rows)


async def visible_image(
    conn: Connection, image_id: UUID, project_id: UUID | None, *, for_update: bool = False
) -> dict[str, Any] | None:
    """A live image `project_id` may see (any for None); `for_update` locks it."""
    params = Params(image_id)
    where = ["i.id = $1", "i.deleted_at IS NULL"]
    if project_id is not None:
        where.append(_VISIBLE.replace("$1", params.add(project_id)))
    lock = " FOR UPDATE" if for_update else ""
    return as_dict(
        await conn.fetchrow(
            f"SELECT i.* FROM images i WHERE {' AND '.join(where)}{lock}", *params.values
        )
    )


async def update_image(
    conn: Connection,
    image_id: UUID,
    columns: Mapping[str, Any],
    *,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    set_properties: Mapping[str, str] | None = None,
    remove_properties: Iterable[str] = (),
) -> dict[str, Any] | None:
    """Set `columns` (names from the caller, never from users), tags and properties."""
    params = Params(image_id)
    sets = ["updated_at = now()"]
    for column, value in columns.items():
        if column != "tags":
            sets.append(f"{column} = {params.add(value)}")
    base = params.add(sorted(set(columns["tags"]))) + "::text[]" if "tags" in columns else "tags"
    sets.append(
        f"tags = ARRAY(SELECT DISTINCT t FROM unnest(array_cat({base}, "
        f"{params.add(list(add_tags))}::text[])) t "
        f"WHERE NOT t = ANY({params.add(list(remove_tags))}::text[]) ORDER BY t)"
    )
    if set_properties or remove_properties:
        sets.append(
            f"properties = (properties - {params.add(list(remove_properties))}::text[]) "
            f"|| {params.add(dict(set_properties or {}))}::jsonb"
        )
    return as_dict(
        await conn.fetchrow(
            f"UPDATE images SET {', '.join(sets)} WHERE id = $1 AND deleted_at IS NULL RETURNING *",
            *params.values,
        )
    )
