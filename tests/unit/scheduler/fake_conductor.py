"""An in-memory conductor for the scheduler's unit tests: a host view and a plan apply
with the generation check, plus fault injection (another writer changing a host)."""

from __future__ import annotations

from uuid import UUID

from corebus.envelope import RequestContext
from scheduler.host_state import HostState
from schemas.fit import add_claim
from schemas.messages.conductor_hosts import (
    ApplyPlan,
    ApplyPlanReply,
    HostConflict,
    HostGeneration,
    HostSnapshot,
    HostView,
    HostViewReply,
)
from schemas.placement import Host, HostUsage


class FakeConductor:
    def __init__(self, *hosts: HostState) -> None:
        self.hosts: dict[UUID, Host] = {h.id: h.host for h in hosts}
        self.usage: dict[UUID, HostUsage] = {h.id: h.usage for h in hosts}
        self.placed: dict[UUID, UUID] = {}  # instance -> host
        self.plans: list[ApplyPlan] = []
        self._interfere = 0

    def interfere(self, times: int) -> None:
        """Before each of the next `times` applies, another writer changes every host."""
        self._interfere = times

    async def host_view(self, ctx: RequestContext, req: HostView) -> HostViewReply:
        return HostViewReply(
            hosts=tuple(
                HostSnapshot(host=host, usage=self.usage[host_id])
                for host_id, host in self.hosts.items()
            )
        )

    async def apply_plan(self, ctx: RequestContext, req: ApplyPlan) -> ApplyPlanReply:
        self.plans.append(req)
        if self._interfere:
            self._interfere -= 1
            for host_id, host in self.hosts.items():
                self.hosts[host_id] = host.model_copy(update={"generation": host.generation + 1})
        seen = {g.host_id: g.generation for g in req.host_generations}
        applied, conflicts, generations = [], [], []
        for host_id in {a.host_id for a in req.allocations}:
            mine = [a for a in req.allocations if a.host_id == host_id]
            host = self.hosts[host_id]
            if host.generation != seen[host_id]:
                conflicts.append(
                    HostConflict(
                        host_id=host_id,
                        instance_ids=tuple(a.instance_id for a in mine),
                        reason="stale generation",
                        generation=host.generation,
                        usage=self.usage[host_id],
                    )
                )
                continue
            for entry in mine:
                self.usage[host_id] = add_claim(self.usage[host_id], entry.claim)
                self.placed[entry.instance_id] = host_id
                applied.append(entry.instance_id)
            generation = host.generation + len(mine)
            self.hosts[host_id] = host.model_copy(update={"generation": generation})
            generations.append(HostGeneration(host_id=host_id, generation=generation))
        return ApplyPlanReply(
            plan_id=req.plan_id,
            applied=tuple(applied),
            conflicts=tuple(conflicts),
            host_generations=tuple(generations),
        )
