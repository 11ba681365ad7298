"""The conductor's server group API: a project's groups, counted against its
`server_groups` quota. Members join at server create (the server API) and leave when
their server is deleted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from conductor import boot_groups
from conductor.compute_admin_scope import caller_of
from conductor.db.queries import admin_quotas, admin_server_groups
from conductor.db.queries.quotas import UNLIMITED
from conductor.db.types import Connection
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import NotFound, QuotaExceeded
from schemas.messages.conductor_compute_admin import (
    CreateServerGroup,
    DeleteServerGroup,
    GetServerGroup,
    ListServerGroups,
    ServerGroupReply,
    ServerGroupsReply,
)
from schemas.messages.scheduler import ServerGroupHint
from schemas.server_group import ServerGroup


def group_from_row(row: dict[str, Any]) -> ServerGroup:
    return ServerGroup.model_validate(
        {**row, "members": tuple(row["members"]), "rules": row["rules"] or {}}
    )


def _scope(ctx: RequestContext) -> UUID | None:
    """The project whose groups a call may touch; None (any) for an admin."""
    project_id, _ = caller_of(ctx)
    return None if ctx.is_admin else project_id


def _missing(group_id: UUID) -> NotFound:
    return NotFound(f"Server group {group_id} could not be found.")


async def join_server_group(
    conn: Connection, project_id: UUID, group_id: UUID, instance_ids: Sequence[UUID]
) -> ServerGroupHint:
    """Make instances (their rows exist) members of the project's group, admitted as a
    server create admits them (conductor/boot_groups.py: the per-group member quota and
    the hint with the members' hosts); NotFound for another project's group."""
    if await admin_server_groups.get_group(conn, group_id, project_id) is None:
        raise _missing(group_id)
    hint = await boot_groups.admit(conn, group_id, project_id, len(instance_ids))
    await admin_server_groups.add_members(conn, group_id, instance_ids)
    return hint


class ServerGroupAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def list_server_groups(
        self, ctx: RequestContext, req: ListServerGroups
    ) -> ServerGroupsReply:
        project_id, _ = caller_of(ctx)
        every = ctx.is_admin and ctx.all_tenants
        async with self._pool.acquire() as conn:
            rows = await admin_server_groups.list_groups(
                conn, None if every else project_id, limit=req.limit, offset=req.offset
            )
        return ServerGroupsReply(server_groups=tuple(group_from_row(row) for row in rows))

    @rpc
    async def get_server_group(self, ctx: RequestContext, req: GetServerGroup) -> ServerGroupReply:
        async with self._pool.acquire() as conn:
            row = await admin_server_groups.get_group(conn, req.group_id, _scope(ctx))
        if row is None:
            raise _missing(req.group_id)
        return ServerGroupReply(server_group=group_from_row(row))

    @rpc
    async def create_server_group(
        self, ctx: RequestContext, req: CreateServerGroup
    ) -> ServerGroupReply:
        project_id, user_id = caller_of(ctx)
        async with self._pool.acquire() as conn, conn.transaction():
            limit = await admin_quotas.limit_of(conn, project_id, "server_groups")
            count = await admin_server_groups.count_locked(conn, project_id)
            if limit != UNLIMITED and count + 1 > limit:
                raise QuotaExceeded(
                    "Quota exceeded, too many server groups.", resource="server_groups"
                )
            row = await admin_server_groups.insert_group(
                conn,
                project_id,
                user_id,
                req.name,
                req.policy.value,
                req.rules.model_dump(exclude_none=True),
            )
        return ServerGroupReply(server_group=group_from_row(row))

    @rpc
    async def delete_server_group(self, ctx: RequestContext, req: DeleteServerGroup) -> None:
        async with self._pool.acquire() as conn:
            if not await admin_server_groups.delete_group(conn, req.group_id, _scope(ctx)):
                raise _missing(req.group_id)
