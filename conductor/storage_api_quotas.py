"""The conductor's block storage quotas (Cinder's os-quota-sets): the limits and usage
of volumes, gigabytes and snapshots of one project. A project's members read their
own; only admins read other projects' or change limits."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from conductor.db.queries import quotas, volume_api
from conductor.servers import identity
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Forbidden
from schemas.messages.conductor_storage_api import (
    VOLUME_QUOTAS,
    GetVolumeQuotas,
    QuotaUsage,
    SetVolumeQuotas,
    VolumeQuotasReply,
)


class VolumeQuotaAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def get_volume_quotas(
        self, ctx: RequestContext, req: GetVolumeQuotas
    ) -> VolumeQuotasReply:
        project_id, _ = identity(ctx)
        if req.project_id != project_id and not ctx.is_admin:
            raise Forbidden("showing another project's quotas is for admins")
        async with self._pool.acquire() as conn:
            if req.defaults:
                found = await volume_api.quota_defaults(conn, list(VOLUME_QUOTAS))
            else:
                found = await quotas.usage(conn, req.project_id)
        return _reply(req.project_id, found)

    @rpc
    async def set_volume_quotas(
        self, ctx: RequestContext, req: SetVolumeQuotas
    ) -> VolumeQuotasReply:
        if not ctx.is_admin:
            raise Forbidden("changing quotas is for admins")
        async with self._pool.acquire() as conn, conn.transaction():
            for resource, limit in sorted(req.limits.items()):
                await quotas.set_limit(conn, req.project_id, resource, limit)
            found = await quotas.usage(conn, req.project_id)
        return _reply(req.project_id, found)


def _reply(project_id: UUID, found: dict[str, dict[str, int]]) -> VolumeQuotasReply:
    return VolumeQuotasReply(
        project_id=project_id,
        quotas={r: QuotaUsage(**found.get(r, {"limit": -1})) for r in VOLUME_QUOTAS},
    )
