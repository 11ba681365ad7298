"""The conductor's quota-set API: a project's limits with what it uses, the defaults,
and the admin's changes. Members may read their own project's; anything else about
another project is refused (403, as Nova answers)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from conductor.compute_admin_scope import require_admin
from conductor.db.queries import admin_keypairs, admin_quotas, admin_server_groups, quotas
from conductor.db.types import Connection
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.compute_admin import QuotaSet
from schemas.errors import Forbidden, InvalidInput
from schemas.messages.conductor_compute_admin import (
    DeleteQuotaSet,
    GetQuotaSet,
    QuotaSetReply,
    UpdateQuotaSet,
)


def _may_read(ctx: RequestContext, project_id: UUID) -> None:
    if not ctx.is_admin and ctx.project_id != project_id:
        raise Forbidden(f"Policy doesn't allow reading the quotas of project {project_id}.")


async def quota_set(conn: Connection, ctx: RequestContext, project_id: UUID) -> QuotaSet:
    """Limits and usage. Key pairs and server groups are counted (key pairs are the
    caller's own, per user as Nova counts them); the rest comes from quota usage."""
    found = await quotas.usage(conn, project_id)
    in_use = {name: row["in_use"] for name, row in found.items()}
    in_use["server_groups"] = await admin_server_groups.count_groups(conn, project_id)
    if ctx.user_id is not None and ctx.project_id == project_id:
        in_use["key_pairs"] = await admin_keypairs.count_keypairs(conn, ctx.user_id)
    return QuotaSet(
        project_id=project_id,
        limits={name: row["limit"] for name, row in found.items()},
        in_use=in_use,
        reserved={name: row["reserved"] for name, row in found.items()},
    )


class QuotaSetAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def get_quota_set(self, ctx: RequestContext, req: GetQuotaSet) -> QuotaSetReply:
        _may_read(ctx, req.project_id)
        async with self._pool.acquire() as conn:
            if req.defaults:
                limits = await admin_quotas.defaults(conn)
                found = QuotaSet(project_id=req.project_id, limits=limits)
            else:
                found = await quota_set(conn, ctx, req.project_id)
        return QuotaSetReply(quota_set=found)

    @rpc
    async def update_quota_set(self, ctx: RequestContext, req: UpdateQuotaSet) -> QuotaSetReply:
        require_admin(ctx, "updating quotas")
        async with self._pool.acquire() as conn, conn.transaction():
            if not await admin_quotas.lock_project(conn, req.project_id):
                raise InvalidInput(f"Project ID {req.project_id} is not a valid project.")
            current = await quota_set(conn, ctx, req.project_id)
            unknown = sorted(set(req.limits) - set(await admin_quotas.defaults(conn)))
            if unknown:
                raise InvalidInput(f"Unknown quota resources {', '.join(unknown)}.")
            for resource, limit in sorted(req.limits.items()):
                held = current.in_use.get(resource, 0) + current.reserved.get(resource, 0)
                if not req.force and limit != quotas.UNLIMITED and limit < held:
                    raise InvalidInput(
                        f"Quota limit {limit} for {resource} must be greater than or equal "
                        f"to already used and reserved {held}."
                    )
                await quotas.set_limit(conn, req.project_id, resource, limit)
            found = await quota_set(conn, ctx, req.project_id)
        return QuotaSetReply(quota_set=found)

    @rpc
    async def delete_quota_set(self, ctx: RequestContext, req: DeleteQuotaSet) -> None:
        require_admin(ctx, "deleting quotas")
        async with self._pool.acquire() as conn:
            await admin_quotas.delete_limits(conn, req.project_id)
