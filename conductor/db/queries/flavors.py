"""Flavors, their extra specs and per-project access for private flavors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts

_SELECT = """
SELECT f.*, coalesce((SELECT jsonb_object_agg(s.key, s.value) FROM flavor_extra_specs s
                      WHERE s.flavor_id = f.id), '{}'::jsonb) AS extra_specs
FROM flavors f"""

# a project sees public flavors and the private ones it was given access to
_VISIBLE = """(f.is_public OR EXISTS (SELECT 1 FROM flavor_projects fp
                                      WHERE fp.flavor_id = f.id AND fp.project_id = $1))"""


async def create_flavor(
    conn: Connection,
    name: str,
    *,
    vcpus: int,
    memory_mb: int,
    disk_gb: int = 0,
    ephemeral_gb: int = 0,
    swap_mb: int = 0,
    is_public: bool = True,
    description: str | None = None,
    extra_specs: Mapping[str, str] | None = None,
    flavor_id: UUID | None = None,
) -> dict[str, Any]:
    async with conn.transaction():
        new_id: UUID = await conn.fetchval(
            "INSERT INTO flavors (id, name, vcpus, memory_mb, disk_gb, ephemeral_gb, swap_mb, "
            "is_public, description) "
            "VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9) "
            "RETURNING id",
            flavor_id,
            name,
            vcpus,
            memory_mb,
            disk_gb,
            ephemeral_gb,
            swap_mb,
            is_public,
            description,
        )
        if extra_specs:
            await set_extra_specs(conn, new_id, extra_specs)
        flavor = await get_flavor(conn, new_id)
    assert flavor is not None
    return flavor


async def get_flavor(
    conn: Connection, flavor_id: UUID, *, project_id: UUID | None = None
) -> dict[str, Any] | None:
    """The flavor with `extra_specs`; with `project_id`, only when that project may use it."""
    if project_id is None:
        return as_dict(await conn.fetchrow(f"{_SELECT} WHERE f.id = $1", flavor_id))
    return as_dict(
        await conn.fetchrow(f"{_SELECT} WHERE f.id = $2 AND {_VISIBLE}", project_id, flavor_id)
    )


async def get_flavor_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow(f"{_SELECT} WHERE f.name = $1", name))


async def list_flavors(
    conn: Connection, *, project_id: UUID | None = None, include_disabled: bool = False
) -> list[dict[str, Any]]:
    """Flavors by size; with `project_id`, only those the project may use."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE ($2 OR NOT f.disabled) AND ($1::uuid IS NULL OR {_VISIBLE}) "
        "ORDER BY f.memory_mb, f.vcpus, f.name",
        project_id,
        include_disabled,
    )
    return as_dicts(rows)


async def set_extra_specs(conn: Connection, flavor_id: UUID, specs: Mapping[str, str]) -> None:
    await conn.executemany(
        "INSERT INTO flavor_extra_specs (flavor_id, key, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (flavor_id, key) DO UPDATE SET value = excluded.value",
        [(flavor_id, key, value) for key, value in specs.items()],
    )


async def unset_extra_spec(conn: Connection, flavor_id: UUID, key: str) -> bool:
    status = await conn.execute(
        "DELETE FROM flavor_extra_specs WHERE flavor_id = $1 AND key = $2", flavor_id, key
    )
    return affected(status) == 1


async def add_access(conn: Connection, flavor_id: UUID, project_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO flavor_projects (flavor_id, project_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        flavor_id,
        project_id,
    )


async def remove_access(conn: Connection, flavor_id: UUID, project_id: UUID) -> bool:
    status = await conn.execute(
        "DELETE FROM flavor_projects WHERE flavor_id = $1 AND project_id = $2",
        flavor_id,
        project_id,
    )
    return affected(status) == 1


async def delete_flavor(conn: Connection, flavor_id: UUID) -> bool:
    """Delete a flavor (instances keep their flavor snapshot)."""
    return affected(await conn.execute("DELETE FROM flavors WHERE id = $1", flavor_id)) == 1
