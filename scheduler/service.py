"""The scheduler service: `scheduler.select_destinations`.

It plans optimistically on a fresh host view and asks the conductor to apply the plan;
the conductor is the only authority (several schedulers may run at once). Instances
whose host changed meanwhile come back as conflicts and are planned again on refreshed
state, a bounded number of rounds. Within one process, planning and applying are
serialised so its own requests do not conflict with each other.

`scheduler.explain` re-runs the same pipeline on the same view for a request spec
without planning or claiming, and says what each filter removed and how hosts weighed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from uuid import UUID, uuid4

from corebus.envelope import RequestContext
from corebus.service import rpc
from scheduler.cache import HostStateCache
from scheduler.conductor_api import ConductorApi
from scheduler.config import SchedulerSettings
from scheduler.explain import explain
from scheduler.host_index import HostIndex
from scheduler.pipeline import Pipeline
from scheduler.planner import PlannedInstance, apply_request, plan_instances
from scheduler.registry import build_filters, build_weighers
from schemas.errors import NoValidHost, PlanConflict
from schemas.messages.conductor_hosts import ApplyPlanReply
from schemas.messages.scheduler import (
    ExplainPlacement,
    ExplainPlacementReply,
    InstanceSelection,
    RequestSpec,
    SelectDestinations,
    SelectDestinationsReply,
)

log = logging.getLogger(__name__)


class Scheduler:
    name = "scheduler"

    def __init__(
        self,
        conductor: ConductorApi,
        settings: SchedulerSettings | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings or SchedulerSettings()
        self._cache = HostStateCache(conductor, self._settings.host_view_max_age_s)
        self._conductor = conductor
        self._pipeline = Pipeline(
            build_filters(self._settings.filters, self._settings.filter_options),
            build_weighers(self._settings.weighers),
        )
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()

    @rpc
    async def select_destinations(
        self, ctx: RequestContext, req: SelectDestinations
    ) -> SelectDestinationsReply:
        spec = req.spec
        plan_id = uuid4()
        chosen: dict[UUID, InstanceSelection] = {}
        pending = list(spec.instance_ids)
        rounds = self._settings.plan_rounds
        for attempt in range(rounds):
            reply, planned = await self._plan_and_apply(ctx, spec, plan_id, pending, chosen)
            generations = {g.host_id: g.generation for g in reply.host_generations}
            applied = set(reply.applied)
            for item in planned:
                if item.instance_id in applied:
                    chosen[item.instance_id] = item.selection(generations)
            pending = [instance_id for instance_id in pending if instance_id not in chosen]
            if not pending:
                return SelectDestinationsReply(
                    selections=tuple(chosen[i] for i in spec.instance_ids), plan_id=plan_id
                )
            log.info(
                "plan %s round %d: %d instance(s) to place again (%s)",
                plan_id,
                attempt + 1,
                len(pending),
                "; ".join(c.reason for c in reply.conflicts)[:500],
            )
            await asyncio.sleep(self._backoff(attempt))
        raise PlanConflict(
            f"plan {plan_id}: hosts kept changing; {len(pending)} instance(s) unplaced "
            f"after {rounds} rounds",
            placed=[str(i) for i in chosen],
            unplaced=[str(i) for i in pending],
        )

    async def _plan_and_apply(
        self,
        ctx: RequestContext,
        spec: RequestSpec,
        plan_id: UUID,
        pending: list[UUID],
        chosen: dict[UUID, InstanceSelection],
    ) -> tuple[ApplyPlanReply, list[PlannedInstance]]:
        async with self._lock:
            hosts = await self._cache.view(ctx)
            try:
                try:
                    planned = self._plan(hosts, spec, pending)
                except NoValidHost:
                    if not self._cache.cached:
                        raise
                    # the cached view may miss capacity freed since: decide on a fresh one
                    fresh = await self._cache.refresh(ctx, full=True)
                    planned = self._plan(fresh, spec, pending)
            except NoValidHost as exc:
                exc.details["placed"] = [str(i) for i in chosen]  # the caller releases them
                log.info("plan %s: %s", plan_id, exc.message)
                raise
            for item in planned:
                log.debug("plan %s: %s", plan_id, item.explain())
            reply = await self._conductor.apply_plan(ctx, apply_request(plan_id, planned))
            applied = set(reply.applied)
            self._cache.record(
                ((p.primary.host.id, p.primary.claim) for p in planned if p.instance_id in applied),
                {g.host_id: g.generation for g in reply.host_generations},
            )
            if reply.conflicts:
                self._cache.invalidate()
        return reply, planned

    @rpc
    async def explain(self, ctx: RequestContext, req: ExplainPlacement) -> ExplainPlacementReply:
        async with self._lock:
            index = await self._cache.view(ctx)
        return explain(self._pipeline, index, req.spec, host=req.host, limit=req.limit)

    def _plan(
        self, index: HostIndex, spec: RequestSpec, pending: list[UUID]
    ) -> list[PlannedInstance]:
        settings = self._settings
        return plan_instances(
            self._pipeline,
            index,
            spec,
            pending,
            alternates=min(spec.max_alternates, settings.max_attempts - 1),
            subset_size=settings.host_subset_size,
            rng=self._rng,
        )

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, self._settings.retry_backoff_s * (attempt + 1))
