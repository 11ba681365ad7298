"""The conductor's identity administration of projects and users (Keystone's
`/v3/projects` and `/v3/users`).

Policy follows Keystone's defaults: admins manage everything; a user may read its own
user, its own token's project, the projects it has a role on, and change its own
password. Everything else is Forbidden, also for ids that do not exist (a non-admin
learns nothing about other projects and users). Passwords are hashed with scrypt in
a thread; a new password or disabling a user revokes every token it holds, and
deleting a project is refused while it still owns resources.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import identity, identity_admin, tokens
from conductor.db.types import Connection
from conductor.passwords import hash_password, verify_password
from conductor.records import model_from_row
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, Forbidden, NotFound, Unauthorized
from schemas.identity import Project, User
from schemas.messages.conductor_identity_admin import (
    ChangePassword,
    CreateProject,
    CreateUser,
    DeleteProject,
    DeleteUser,
    ListProjects,
    ListProjectsReply,
    ListUsers,
    ListUsersReply,
    ProjectReply,
    ShowProject,
    ShowUser,
    UpdateProject,
    UpdateUser,
    UserReply,
)

# Stored for a user created without a password: no password ever verifies against it
# (it is not an scrypt record), so the user exists but cannot authenticate.
NO_PASSWORD = "!"
POLICY = "You are not authorized to perform the requested action: {action}."


def require_admin(ctx: RequestContext, action: str) -> None:
    if not ctx.is_admin:
        raise Forbidden(POLICY.format(action=action))


@contextmanager
def unique(kind: str, name: str | None) -> Iterator[None]:
    """A duplicate name as Keystone words it (409)."""
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise Conflict(
            f"Conflict occurred attempting to store {kind} - Duplicate entry found "
            f"with name {name} at domain ID default."
        ) from None


def project_record(row: dict[str, Any]) -> Project:
    return model_from_row(Project, row)


def user_record(row: dict[str, Any]) -> User:
    return model_from_row(User, row)


class IdentityAdmin:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    # -- projects --------------------------------------------------------------------

    @rpc
    async def create_project(self, ctx: RequestContext, req: CreateProject) -> ProjectReply:
        require_admin(ctx, "identity:create_project")
        async with self._transaction() as conn:
            with unique("project", req.name):
                row = await identity_admin.insert_project(
                    conn, req.name, description=req.description, enabled=req.enabled
                )
        return ProjectReply(project=project_record(row))

    @rpc
    async def list_projects(self, ctx: RequestContext, req: ListProjects) -> ListProjectsReply:
        if req.user_id is None or req.user_id != ctx.user_id:
            require_admin(ctx, "identity:list_projects")
        async with self._pool.acquire() as conn:
            rows = await identity_admin.list_projects(
                conn, name=req.name, enabled=req.enabled, user_id=req.user_id
            )
        return ListProjectsReply(projects=tuple(project_record(r) for r in rows))

    @rpc
    async def show_project(self, ctx: RequestContext, req: ShowProject) -> ProjectReply:
        if req.project_id != ctx.project_id:
            require_admin(ctx, "identity:get_project")
        async with self._pool.acquire() as conn:
            row = await identity.get_project(conn, req.project_id)
        return ProjectReply(project=project_record(found(row, "project", req.project_id)))

    @rpc
    async def update_project(self, ctx: RequestContext, req: UpdateProject) -> ProjectReply:
        require_admin(ctx, "identity:update_project")
        async with self._transaction() as conn:
            with unique("project", req.name):
                row = await identity_admin.update_project(
                    conn,
                    req.project_id,
                    name=req.name,
                    description=req.description,
                    enabled=req.enabled,
                )
        return ProjectReply(project=project_record(found(row, "project", req.project_id)))

    @rpc
    async def delete_project(self, ctx: RequestContext, req: DeleteProject) -> None:
        require_admin(ctx, "identity:delete_project")
        async with self._transaction() as conn:
            row = await identity_admin.lock_project(conn, req.project_id)
            project = found(row, "project", req.project_id)
            holdings = await identity_admin.project_holdings(conn, req.project_id)
            if holdings:
                owned = ", ".join(f"{count} {kind}" for kind, count in holdings.items())
                raise Conflict(f"project {project['name']} still owns {owned}: delete them first")
            await identity_admin.delete_project(conn, req.project_id)

    # -- users -----------------------------------------------------------------------

    @rpc
    async def create_user(self, ctx: RequestContext, req: CreateUser) -> UserReply:
        require_admin(ctx, "identity:create_user")
        hashed = await _hash(req.password) if req.password is not None else NO_PASSWORD
        async with self._transaction() as conn:
            if req.default_project_id is not None:
                found(
                    await identity.get_project(conn, req.default_project_id),
                    "project",
                    req.default_project_id,
                )
            with unique("user", req.name):
                row = await identity_admin.insert_user(
                    conn,
                    req.name,
                    hashed,
                    email=req.email,
                    description=req.description,
                    enabled=req.enabled,
                    default_project_id=req.default_project_id,
                )
        return UserReply(user=user_record(row))

    @rpc
    async def list_users(self, ctx: RequestContext, req: ListUsers) -> ListUsersReply:
        require_admin(ctx, "identity:list_users")
        async with self._pool.acquire() as conn:
            rows = await identity_admin.list_users(conn, name=req.name, enabled=req.enabled)
        return ListUsersReply(users=tuple(user_record(r) for r in rows))

    @rpc
    async def show_user(self, ctx: RequestContext, req: ShowUser) -> UserReply:
        if req.user_id != ctx.user_id:
            require_admin(ctx, "identity:get_user")
        async with self._pool.acquire() as conn:
            row = await identity.get_user(conn, req.user_id)
        return UserReply(user=user_record(found(row, "user", req.user_id)))

    @rpc
    async def update_user(self, ctx: RequestContext, req: UpdateUser) -> UserReply:
        require_admin(ctx, "identity:update_user")
        hashed = await _hash(req.password) if req.password is not None else None
        async with self._transaction() as conn:
            if req.default_project_id is not None:
                found(
                    await identity.get_project(conn, req.default_project_id),
                    "project",
                    req.default_project_id,
                )
            with unique("user", req.name):
                row = await identity_admin.update_user(
                    conn,
                    req.user_id,
                    name=req.name,
                    password_hash=hashed,
                    email=req.email,
                    description=req.description,
                    enabled=req.enabled,
                    default_project_id=req.default_project_id,
                )
            user = found(row, "user", req.user_id)
            if hashed is not None or req.enabled is False:
                await tokens.revoke_user_tokens(conn, req.user_id)
        return UserReply(user=user_record(user))

    @rpc
    async def delete_user(self, ctx: RequestContext, req: DeleteUser) -> None:
        require_admin(ctx, "identity:delete_user")
        async with self._transaction() as conn:
            if not await identity_admin.delete_user(conn, req.user_id):
                raise NotFound(f"Could not find user: {req.user_id}.")

    @rpc
    async def change_password(self, ctx: RequestContext, req: ChangePassword) -> None:
        """Keystone lets only the user itself do this, not even an admin."""
        if req.user_id != ctx.user_id:
            raise Forbidden(POLICY.format(action="identity:change_password"))
        async with self._pool.acquire() as conn:
            row = await identity.get_user(conn, req.user_id)
        user = found(row, "user", req.user_id)
        if not await asyncio.to_thread(
            verify_password, req.original_password, user["password_hash"]
        ):
            raise Unauthorized("The request you have made requires authentication.")
        hashed = await _hash(req.password)
        async with self._transaction() as conn:
            await identity.set_password_hash(conn, req.user_id, hashed)
            await tokens.revoke_user_tokens(conn, req.user_id)


async def _hash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


def found(row: dict[str, Any] | None, kind: str, key: UUID) -> dict[str, Any]:
    if row is None:
        raise NotFound(f"Could not find {kind}: {key}.")
    return row
