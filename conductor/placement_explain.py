"""`conductor.explain_placement`: why a server would be placed where it would
(`GET /v1/servers/{id}/placement`, admins only).

The conductor owns the server's request spec (stored at create); it refreshes the
server group's member hosts as a build attempt would and asks the scheduler to run its
pipeline on it (`scheduler.explain`), which claims nothing. The server's own
allocations, when it is placed, count as usage of its host like any other.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from conductor import boot_groups
from conductor.db.queries import instances
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, Forbidden, NotFound
from schemas.messages.conductor_placement import (
    ExplainServerPlacement,
    ExplainServerPlacementReply,
)
from schemas.messages.scheduler import ExplainPlacement, ExplainPlacementReply, RequestSpec


class PlacementExplainer:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client, *, timeout_s: float) -> None:
        self._pool = pool
        self._client = client
        self._timeout = timeout_s

    @rpc
    async def explain_placement(
        self, ctx: RequestContext, req: ExplainServerPlacement
    ) -> ExplainServerPlacementReply:
        if not ctx.is_admin:
            raise Forbidden("explaining a placement is for admins")
        spec, host = await self._spec(req.server_id)
        explanation = await self._client.call(
            "scheduler.explain",
            ExplainPlacement(spec=spec, host=req.host, limit=req.limit),
            ExplainPlacementReply,
            timeout=self._timeout,
            context=ctx,
        )
        return ExplainServerPlacementReply(
            server_id=req.server_id, current_host=host, explanation=explanation
        )

    async def _spec(self, server_id: UUID) -> tuple[RequestSpec, str | None]:
        """The server's request spec, its group's hosts as they are now, and its host."""
        async with self._pool.acquire() as conn:
            row = await instances.get_instance(conn, server_id)
            if row is None:
                raise NotFound(f"server {server_id} not found", server_id=str(server_id))
            if row["request_spec"] is None:
                raise Conflict(f"server {server_id} has no request spec to explain")
            spec = RequestSpec.model_validate(row["request_spec"])
            return await boot_groups.refreshed(conn, spec), row["host"]
