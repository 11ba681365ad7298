"""What the scheduler asks of the conductor: a host view and the apply of a plan. A
Protocol, so tests can give the scheduler a fake conductor; `BusConductor` calls the
real one over the bus."""

from __future__ import annotations

from typing import Protocol

from corebus.client import Client
from corebus.envelope import RequestContext
from schemas.messages.conductor_hosts import ApplyPlan, ApplyPlanReply, HostView, HostViewReply


class ConductorApi(Protocol):
    async def host_view(self, ctx: RequestContext, req: HostView) -> HostViewReply: ...

    async def apply_plan(self, ctx: RequestContext, req: ApplyPlan) -> ApplyPlanReply: ...


class BusConductor:
    def __init__(self, client: Client, timeout: float | None = None) -> None:
        self._client = client
        self._timeout = timeout

    async def host_view(self, ctx: RequestContext, req: HostView) -> HostViewReply:
        return await self._client.call(
            "conductor.host_view", req, HostViewReply, timeout=self._timeout, context=ctx
        )

    async def apply_plan(self, ctx: RequestContext, req: ApplyPlan) -> ApplyPlanReply:
        return await self._client.call(
            "conductor.apply_plan", req, ApplyPlanReply, timeout=self._timeout, context=ctx
        )
