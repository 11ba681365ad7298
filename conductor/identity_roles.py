"""The conductor's role administration (Keystone's `/v3/roles`, the project-user-role
grants and `/v3/role_assignments`).

Admins only. The built-in roles (admin, member, reader, service; migration 0005) are
what every policy check names, so they cannot be renamed or deleted. Taking a role
away works at once: token validation re-reads the roles on every check.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.db.queries import identity, identity_admin
from conductor.db.types import Connection
from conductor.identity_admin import found, require_admin, unique
from conductor.records import model_from_row
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Forbidden, NotFound
from schemas.identity import Role
from schemas.messages.conductor_identity import NamedRef
from schemas.messages.conductor_identity_admin import (
    Assignment,
    CheckRole,
    CreateRole,
    DeleteRole,
    GrantRole,
    ListRoleAssignments,
    ListRoleAssignmentsReply,
    ListRoles,
    ListRolesReply,
    RevokeRole,
    RoleGrant,
    RoleReply,
    ShowRole,
    UpdateRole,
)


def role_record(row: dict[str, Any]) -> Role:
    return model_from_row(Role, row)


def assignment_record(row: dict[str, Any]) -> Assignment:
    return Assignment(
        role=NamedRef(id=row["role_id"], name=row["role_name"]),
        user=NamedRef(id=row["user_id"], name=row["user_name"]),
        project=NamedRef(id=row["project_id"], name=row["project_name"]),
    )


class RoleAdmin:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def create_role(self, ctx: RequestContext, req: CreateRole) -> RoleReply:
        require_admin(ctx, "identity:create_role")
        async with self._pool.acquire() as conn:
            with unique("role", req.name):
                row = await identity_admin.create_role(conn, req.name, req.description)
        return RoleReply(role=role_record(row))

    @rpc
    async def list_roles(self, ctx: RequestContext, req: ListRoles) -> ListRolesReply:
        require_admin(ctx, "identity:list_roles")
        async with self._pool.acquire() as conn:
            rows = await identity_admin.list_roles(
                conn, name=req.name, user_id=req.user_id, project_id=req.project_id
            )
        return ListRolesReply(roles=tuple(role_record(r) for r in rows))

    @rpc
    async def show_role(self, ctx: RequestContext, req: ShowRole) -> RoleReply:
        require_admin(ctx, "identity:get_role")
        async with self._pool.acquire() as conn:
            row = await identity_admin.get_role(conn, req.role_id)
        return RoleReply(role=role_record(found(row, "role", req.role_id)))

    @rpc
    async def update_role(self, ctx: RequestContext, req: UpdateRole) -> RoleReply:
        require_admin(ctx, "identity:update_role")
        async with self._pool.acquire() as conn, conn.transaction():
            role = found(await identity_admin.get_role(conn, req.role_id), "role", req.role_id)
            if role["immutable"] and req.name not in (None, role["name"]):
                raise Forbidden(f"role {role['name']} is built in and cannot be renamed")
            with unique("role", req.name):
                row = await identity_admin.update_role(
                    conn, req.role_id, name=req.name, description=req.description
                )
        return RoleReply(role=role_record(found(row, "role", req.role_id)))

    @rpc
    async def delete_role(self, ctx: RequestContext, req: DeleteRole) -> None:
        require_admin(ctx, "identity:delete_role")
        async with self._pool.acquire() as conn, conn.transaction():
            role = found(await identity_admin.get_role(conn, req.role_id), "role", req.role_id)
            if role["immutable"]:
                raise Forbidden(f"role {role['name']} is built in and cannot be deleted")
            await identity_admin.delete_role(conn, req.role_id)

    @rpc
    async def grant_role(self, ctx: RequestContext, req: GrantRole) -> None:
        require_admin(ctx, "identity:create_grant")
        async with self._pool.acquire() as conn, conn.transaction():
            await _grant_parts(conn, req.grant)
            await identity_admin.grant(
                conn, req.grant.user_id, req.grant.project_id, req.grant.role_id
            )

    @rpc
    async def revoke_role(self, ctx: RequestContext, req: RevokeRole) -> None:
        require_admin(ctx, "identity:revoke_grant")
        async with self._pool.acquire() as conn, conn.transaction():
            await _grant_parts(conn, req.grant)
            if not await identity_admin.revoke(
                conn, req.grant.user_id, req.grant.project_id, req.grant.role_id
            ):
                raise NotFound(_no_grant(req.grant))

    @rpc
    async def check_role(self, ctx: RequestContext, req: CheckRole) -> None:
        require_admin(ctx, "identity:check_grant")
        async with self._pool.acquire() as conn:
            await _grant_parts(conn, req.grant)
            if not await identity_admin.has_grant(
                conn, req.grant.user_id, req.grant.project_id, req.grant.role_id
            ):
                raise NotFound(_no_grant(req.grant))

    @rpc
    async def list_role_assignments(
        self, ctx: RequestContext, req: ListRoleAssignments
    ) -> ListRoleAssignmentsReply:
        require_admin(ctx, "identity:list_role_assignments")
        async with self._pool.acquire() as conn:
            rows = await identity_admin.list_assignments(
                conn, project_id=req.project_id, user_id=req.user_id, role_id=req.role_id
            )
        return ListRoleAssignmentsReply(assignments=tuple(assignment_record(r) for r in rows))


async def _grant_parts(conn: Connection, grant: RoleGrant) -> None:
    """NotFound naming the first of project, user and role that does not exist."""
    found(await identity.get_project(conn, grant.project_id), "project", grant.project_id)
    found(await identity.get_user(conn, grant.user_id), "user", grant.user_id)
    found(await identity_admin.get_role(conn, grant.role_id), "role", grant.role_id)


def _no_grant(grant: RoleGrant) -> str:
    return (
        f"Could not find role assignment with role: {grant.role_id}, "
        f"user or group: {grant.user_id}, project, domain, or system: {grant.project_id}."
    )
