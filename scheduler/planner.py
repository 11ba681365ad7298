"""A plan for the instances of one request: a primary host and alternates per instance,
chosen on a host view that each primary's claim consumes before the next instance, so a
multi-instance request never counts the same free capacity twice."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from scheduler.host_state import HostState
from scheduler.pipeline import Pipeline, Ranked
from schemas.claims import Claim
from schemas.errors import NoValidHost
from schemas.fit import fit
from schemas.messages.conductor_hosts import ApplyPlan, HostGeneration, PlannedAllocation
from schemas.messages.scheduler import InstanceSelection, RequestSpec, Selection


@dataclass(frozen=True)
class Choice:
    host: HostState  # as seen when chosen (before this instance's claim)
    claim: Claim

    def selection(self, generation: int | None = None) -> Selection:
        host = self.host.host
        return Selection(
            host_id=host.id,
            host=host.name,
            availability_zone=host.availability_zone,
            claim=self.claim,
            generation=self.host.generation if generation is None else generation,
        )


@dataclass(frozen=True)
class PlannedInstance:
    instance_id: UUID
    primary: Choice
    alternates: tuple[Choice, ...]

    def selection(self, generations: Mapping[UUID, int]) -> InstanceSelection:
        return InstanceSelection(
            instance_id=self.instance_id,
            primary=self.primary.selection(generations.get(self.primary.host.id)),
            alternates=tuple(choice.selection() for choice in self.alternates),
        )


def plan_instances(
    pipeline: Pipeline,
    hosts: Mapping[UUID, HostState],
    spec: RequestSpec,
    instance_ids: Sequence[UUID],
    *,
    alternates: int = 2,
    subset_size: int = 1,
    rng: random.Random | None = None,
) -> list[PlannedInstance]:
    """A primary and up to `alternates` other hosts for each instance, the primary chosen
    at random among the best `subset_size` hosts. Raises NoValidHost, naming the filter
    that removed the last hosts, when an instance fits nowhere."""
    view = dict(hosts)
    planned: list[PlannedInstance] = []
    for instance_id in instance_ids:
        outcome = pipeline.run(sorted(view.values(), key=lambda h: h.name), spec)
        if not outcome.ranked:
            raise NoValidHost(
                f"No valid host was found for instance {instance_id}: {outcome.explain()}",
                instance_id=str(instance_id),
                filter=outcome.last_filter,
                removed=outcome.removed,
                reasons={host: why.reason for host, why in outcome.excluded.items()},
            )
        top = outcome.ranked[: max(1, subset_size)]
        best = top[0] if len(top) == 1 else (rng or random).choice(top)
        others = [r for r in outcome.ranked if r.host.id != best.host.id][:alternates]
        primary = _choice(best, spec)
        planned.append(
            PlannedInstance(instance_id, primary, tuple(_choice(r, spec) for r in others))
        )
        view[best.host.id] = best.host.with_claim(primary.claim)
    return planned


def _choice(ranked: Ranked, spec: RequestSpec) -> Choice:
    claim = fit(ranked.host.inventory, ranked.host.usage, spec.resources).claim
    if claim is None:  # a host that passed the resources filter fits by definition
        raise AssertionError(f"{ranked.host.name} passed the filters but does not fit")
    return Choice(ranked.host, claim)


def apply_request(plan_id: UUID, planned: Sequence[PlannedInstance]) -> ApplyPlan:
    """The conductor's apply_plan message: each primary's claim, and the generation of
    every host a primary is on as the plan saw it."""
    generations = {p.primary.host.id: p.primary.host.generation for p in planned}
    return ApplyPlan(
        plan_id=plan_id,
        allocations=tuple(
            PlannedAllocation(
                instance_id=p.instance_id, host_id=p.primary.host.id, claim=p.primary.claim
            )
            for p in planned
        ),
        host_generations=tuple(
            HostGeneration(host_id=host_id, generation=generation)
            for host_id, generation in sorted(generations.items())
        ),
    )
