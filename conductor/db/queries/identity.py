"""Projects, users, roles and role assignments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one


async def create_project(
    conn: Connection, name: str, *, description: str = "", project_id: UUID | None = None
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO projects (id, name, description) "
        "VALUES (coalesce($1, gen_random_uuid()), $2, $3) RETURNING *",
        project_id,
        name,
        description,
    )
    return one(row)


async def ensure_project(conn: Connection, name: str, *, description: str = "") -> dict[str, Any]:
    """The project called `name`, created when missing (idempotent)."""
    row = await conn.fetchrow(
        "INSERT INTO projects (name, description) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING *",
        name,
        description,
    )
    return one(row)


async def get_project(conn: Connection, project_id: UUID) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow("SELECT * FROM projects WHERE id = $1", project_id))


async def get_project_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow("SELECT * FROM projects WHERE name = $1", name))


async def list_projects(conn: Connection) -> list[dict[str, Any]]:
    return as_dicts(await conn.fetch("SELECT * FROM projects ORDER BY name"))


async def create_user(
    conn: Connection,
    name: str,
    password_hash: str,
    *,
    email: str | None = None,
    default_project_id: UUID | None = None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO users (name, password_hash, email, default_project_id) "
        "VALUES ($1, $2, $3, $4) RETURNING *",
        name,
        password_hash,
        email,
        default_project_id,
    )
    return one(row)


async def get_user(conn: Connection, user_id: UUID) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id))


async def get_user_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    """The user row including `password_hash` (for the gateway's password check)."""
    return as_dict(await conn.fetchrow("SELECT * FROM users WHERE name = $1", name))


async def set_password_hash(conn: Connection, user_id: UUID, password_hash: str) -> bool:
    status = await conn.execute(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        user_id,
        password_hash,
    )
    return affected(status) == 1


async def ensure_role(conn: Connection, name: str) -> UUID:
    role_id: UUID = await conn.fetchval(
        "INSERT INTO roles (name) VALUES ($1) "
        "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        name,
    )
    return role_id


async def assign_role(conn: Connection, user_id: UUID, project_id: UUID, role: str) -> None:
    """Give `user_id` the role called `role` on `project_id` (idempotent)."""
    role_id = await ensure_role(conn, role)
    await conn.execute(
        "INSERT INTO role_assignments (user_id, project_id, role_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        user_id,
        project_id,
        role_id,
    )


async def unassign_role(conn: Connection, user_id: UUID, project_id: UUID, role: str) -> bool:
    status = await conn.execute(
        "DELETE FROM role_assignments ra USING roles r WHERE ra.role_id = r.id "
        "AND ra.user_id = $1 AND ra.project_id = $2 AND r.name = $3",
        user_id,
        project_id,
        role,
    )
    return affected(status) > 0


async def roles_for(conn: Connection, user_id: UUID, project_id: UUID) -> list[str]:
    """Names of the roles `user_id` holds on `project_id`, sorted."""
    return [role["name"] for role in await role_refs(conn, user_id, project_id)]


async def role_refs(conn: Connection, user_id: UUID, project_id: UUID) -> list[dict[str, Any]]:
    """(id, name) of the roles `user_id` holds on `project_id`, sorted by name."""
    rows = await conn.fetch(
        "SELECT r.id, r.name FROM role_assignments ra JOIN roles r ON r.id = ra.role_id "
        "WHERE ra.user_id = $1 AND ra.project_id = $2 ORDER BY r.name",
        user_id,
        project_id,
    )
    return as_dicts(rows)
