"""Flavor reads and writes of the operator API that conductor/db/queries/flavors.py
does not cover: filtered, paginated listing, the description and the access list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.queries.flavors import _SELECT
from conductor.db.types import Connection, as_dict, as_dicts

# the sort key is also the pagination key: (memory, vcpus, name, id) is unique
_ORDER = "(f.memory_mb, f.vcpus, f.name, f.id)"
_SEARCH = f"""{_SELECT}
WHERE NOT f.disabled
  AND CASE WHEN $1::bool IS NULL THEN true
           WHEN $1 THEN f.is_public OR EXISTS (SELECT 1 FROM flavor_projects fp
                                               WHERE fp.flavor_id = f.id AND fp.project_id = $2)
           ELSE NOT f.is_public END
  AND ($3::int IS NULL OR f.memory_mb >= $3)
  AND ($4::int IS NULL OR f.disk_gb >= $4)
  AND ($5::uuid IS NULL OR {_ORDER} > (SELECT m.memory_mb, m.vcpus, m.name, m.id
                                         FROM flavors m WHERE m.id = $5))
ORDER BY f.memory_mb, f.vcpus, f.name, f.id
LIMIT $6"""


async def search_flavors(
    conn: Connection,
    *,
    is_public: bool | None,
    project_id: UUID | None,
    min_ram_mb: int | None = None,
    min_disk_gb: int | None = None,
    marker: UUID | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Enabled flavors by size (see SearchFlavors for `is_public`), after `marker`."""
    rows = await conn.fetch(_SEARCH, is_public, project_id, min_ram_mb, min_disk_gb, marker, limit)
    return as_dicts(rows)


async def flavor_exists(conn: Connection, flavor_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM flavors WHERE id = $1", flavor_id))


async def set_description(
    conn: Connection, flavor_id: UUID, description: str | None
) -> dict[str, Any] | None:
    await conn.execute(
        "UPDATE flavors SET description = $2, updated_at = now() WHERE id = $1",
        flavor_id,
        description,
    )
    return as_dict(await conn.fetchrow(f"{_SELECT} WHERE f.id = $1", flavor_id))


async def access_list(conn: Connection, flavor_id: UUID) -> list[UUID]:
    """The projects given access to a (private) flavor."""
    rows = await conn.fetch(
        "SELECT project_id FROM flavor_projects WHERE flavor_id = $1 ORDER BY project_id",
        flavor_id,
    )
    return [row["project_id"] for row in rows]


async def project_exists(conn: Connection, project_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM projects WHERE id = $1", project_id))


async def lock_flavor(conn: Connection, flavor_id: UUID) -> dict[str, Any] | None:
    """The flavor row, locked until the transaction ends (None when there is none)."""
    return as_dict(await conn.fetchrow("SELECT * FROM flavors WHERE id = $1 FOR UPDATE", flavor_id))
