"""Identity administration: listing, changing and deleting projects, users, roles and
role assignments (creation and lookups by id or name live in `identity`).

Updates take None for "leave as it is" (`coalesce`), so one statement serves every
PATCH."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one

# What a project may still own that forbids deleting it: (table, label, live rows only)
HOLDINGS = (
    ("instances", "servers", "NOT deleted"),
    ("volumes", "volumes", "NOT deleted"),
    ("networks", "networks", "true"),
    ("subnets", "subnets", "true"),
    ("ports", "ports", "true"),
    ("routers", "routers", "true"),
    ("floating_ips", "floating IPs", "true"),
)


async def insert_project(
    conn: Connection, name: str, *, description: str, enabled: bool
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO projects (name, description, enabled) VALUES ($1, $2, $3) RETURNING *",
        name,
        description,
        enabled,
    )
    return one(row)


async def list_projects(
    conn: Connection,
    *,
    name: str | None = None,
    enabled: bool | None = None,
    user_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Projects by name, filtered exactly; with `user_id`, those it has a role on."""
    rows = await conn.fetch(
        "SELECT p.* FROM projects p WHERE ($1::text IS NULL OR p.name = $1) "
        "AND ($2::boolean IS NULL OR p.enabled = $2) "
        "AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM role_assignments ra "
        "WHERE ra.project_id = p.id AND ra.user_id = $3)) ORDER BY p.name",
        name,
        enabled,
        user_id,
    )
    return as_dicts(rows)


async def update_project(
    conn: Connection,
    project_id: UUID,
    *,
    name: str | None,
    description: str | None,
    enabled: bool | None,
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "UPDATE projects SET name = coalesce($2, name), "
        "description = coalesce($3, description), enabled = coalesce($4, enabled), "
        "updated_at = now() WHERE id = $1 RETURNING *",
        project_id,
        name,
        description,
        enabled,
    )
    return as_dict(row)


async def lock_project(conn: Connection, project_id: UUID) -> dict[str, Any] | None:
    """The project row, locked until the transaction ends: rows being inserted that
    reference it wait, so the holdings counted next cannot grow before the delete."""
    return as_dict(
        await conn.fetchrow("SELECT * FROM projects WHERE id = $1 FOR UPDATE", project_id)
    )


async def project_holdings(conn: Connection, project_id: UUID) -> dict[str, int]:
    """How many live servers, volumes, networks, ports, routers and floating IPs the
    project owns (only the kinds it owns any of)."""
    counts = {}
    for table, label, live in HOLDINGS:
        count = await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE project_id = $1 AND {live}", project_id
        )
        if count:
            counts[label] = int(count)
    return counts


async def delete_project(conn: Connection, project_id: UUID) -> bool:
    """Delete the project with the rows of its deleted servers and volumes (they keep
    it referenced); the caller has checked that nothing live remains."""
    await conn.execute("DELETE FROM instances WHERE project_id = $1 AND deleted", project_id)
    await conn.execute("DELETE FROM volumes WHERE project_id = $1 AND deleted", project_id)
    status = await conn.execute("DELETE FROM projects WHERE id = $1", project_id)
    return affected(status) == 1


async def insert_user(
    conn: Connection,
    name: str,
    password_hash: str,
    *,
    email: str | None,
    description: str,
    enabled: bool,
    default_project_id: UUID | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO users (name, password_hash, email, description, enabled, "
        "default_project_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        name,
        password_hash,
        email,
        description,
        enabled,
        default_project_id,
    )
    return one(row)


async def list_users(
    conn: Connection, *, name: str | None = None, enabled: bool | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM users WHERE ($1::text IS NULL OR name = $1) "
        "AND ($2::boolean IS NULL OR enabled = $2) ORDER BY name",
        name,
        enabled,
    )
    return as_dicts(rows)


async def update_user(
    conn: Connection,
    user_id: UUID,
    *,
    name: str | None,
    password_hash: str | None,
    email: str | None,
    description: str | None,
    enabled: bool | None,
    default_project_id: UUID | None,
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "UPDATE users SET name = coalesce($2, name), "
        "password_hash = coalesce($3, password_hash), email = coalesce($4, email), "
        "description = coalesce($5, description), enabled = coalesce($6, enabled), "
        "default_project_id = coalesce($7, default_project_id), updated_at = now() "
        "WHERE id = $1 RETURNING *",
        user_id,
        name,
        password_hash,
        email,
        description,
        enabled,
        default_project_id,
    )
    return as_dict(row)


async def delete_user(conn: Connection, user_id: UUID) -> bool:
    """Delete the user; its role assignments, tokens and keypairs go with it."""
    status = await conn.execute("DELETE FROM users WHERE id = $1", user_id)
    return affected(status) == 1


async def create_role(conn: Connection, name: str, description: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO roles (name, description) VALUES ($1, $2) RETURNING *", name, description
    )
    return one(row)


async def get_role(conn: Connection, role_id: UUID) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow("SELECT * FROM roles WHERE id = $1", role_id))


async def list_roles(
    conn: Connection,
    *,
    name: str | None = None,
    user_id: UUID | None = None,
    project_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Roles by name; with `user_id` and `project_id`, those the user holds there."""
    rows = await conn.fetch(
        "SELECT r.* FROM roles r WHERE ($1::text IS NULL OR r.name = $1) "
        "AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM role_assignments ra "
        "WHERE ra.role_id = r.id AND ra.user_id = $2 AND ra.project_id = $3)) "
        "ORDER BY r.name",
        name,
        user_id,
        project_id,
    )
    return as_dicts(rows)


async def update_role(
    conn: Connection, role_id: UUID, *, name: str | None, description: str | None
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "UPDATE roles SET name = coalesce($2, name), description = coalesce($3, description) "
        "WHERE id = $1 RETURNING *",
        role_id,
        name,
        description,
    )
    return as_dict(row)


async def delete_role(conn: Connection, role_id: UUID) -> bool:
    """Delete the role and every assignment of it."""
    status = await conn.execute("DELETE FROM roles WHERE id = $1", role_id)
    return affected(status) == 1


async def grant(conn: Connection, user_id: UUID, project_id: UUID, role_id: UUID) -> None:
    """Give the role (idempotent)."""
    await conn.execute(
        "INSERT INTO role_assignments (user_id, project_id, role_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        user_id,
        project_id,
        role_id,
    )


async def revoke(conn: Connection, user_id: UUID, project_id: UUID, role_id: UUID) -> bool:
    status = await conn.execute(
        "DELETE FROM role_assignments WHERE user_id = $1 AND project_id = $2 AND role_id = $3",
        user_id,
        project_id,
        role_id,
    )
    return affected(status) == 1


async def has_grant(conn: Connection, user_id: UUID, project_id: UUID, role_id: UUID) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM role_assignments WHERE user_id = $1 AND project_id = $2 AND role_id = $3",
        user_id,
        project_id,
        role_id,
    )
    return found is not None


async def list_assignments(
    conn: Connection,
    *,
    project_id: UUID | None = None,
    user_id: UUID | None = None,
    role_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Assignments with the role, user and project names, filtered by any of the ids."""
    rows = await conn.fetch(
        "SELECT r.id AS role_id, r.name AS role_name, u.id AS user_id, u.name AS user_name, "
        "p.id AS project_id, p.name AS project_name FROM role_assignments ra "
        "JOIN roles r ON r.id = ra.role_id JOIN users u ON u.id = ra.user_id "
        "JOIN projects p ON p.id = ra.project_id "
        "WHERE ($1::uuid IS NULL OR ra.project_id = $1) AND ($2::uuid IS NULL OR ra.user_id = $2) "
        "AND ($3::uuid IS NULL OR ra.role_id = $3) ORDER BY p.name, u.name, r.name",
        project_id,
        user_id,
        role_id,
    )
    return as_dicts(rows)
