"""A plan for the instances of one request: a primary host and alternates per instance,
chosen on a working copy of the host index that each primary's claim consumes before the
next instance, so a multi-instance request never counts the same free capacity twice
(and members of a server group placed earlier in the request count for the later ones).

A host's claim is made with `schemas.fit.fit`, the arithmetic the conductor re-checks
the plan with; a ranked host that cannot make one (possible only when the PCI or NUMA
filter is switched off) is passed over, recorded under "claim".
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from scheduler.pipeline import Exclusion, Outcome, Pipeline
from schemas.claims import Claim
from schemas.errors import NoValidHost
from schemas.fit import fit
from schemas.messages.conductor_hosts import ApplyPlan, HostGeneration, PlannedAllocation
from schemas.messages.scheduler import InstanceSelection, RequestSpec, Selection

CLAIM = "claim"


@dataclass(frozen=True)
class Choice:
    host: HostState  # as seen when chosen (before this instance's claim)
    claim: Claim
    score: float = 0.0
    contributions: Mapping[str, float] = field(default_factory=dict)  # weigher -> share

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
    removed: Mapping[str, int] = field(default_factory=dict)  # filter -> hosts removed

    def explain(self) -> str:
        """The decision in one line: the host, each weigher's share of its score, and
        how many hosts each filter removed."""
        shares = ", ".join(f"{n} {v:+.3g}" for n, v in self.primary.contributions.items() if v)
        removed = ", ".join(f"{name}: {n}" for name, n in self.removed.items() if n)
        return (
            f"instance {self.instance_id} on {self.primary.host.name} "
            f"(score {self.primary.score:.3g}: {shares or 'all equal'}); "
            f"hosts removed per filter: {removed or 'none'}"
        )

    def selection(self, generations: Mapping[UUID, int]) -> InstanceSelection:
        return InstanceSelection(
            instance_id=self.instance_id,
            primary=self.primary.selection(generations.get(self.primary.host.id)),
            alternates=tuple(choice.selection() for choice in self.alternates),
        )


def plan_instances(
    pipeline: Pipeline,
    index: HostIndex,
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
    work = index.copy()
    planned: list[PlannedInstance] = []
    subset = max(1, subset_size)
    for instance_id in instance_ids:
        outcome = pipeline.select(work, spec)
        choices = claimable(outcome, spec, subset + alternates)
        if not choices:
            raise no_valid_host(instance_id, outcome)
        top = choices[:subset]
        primary = top[0] if len(top) == 1 else (rng or random).choice(top)
        others = [c for c in choices if c.host.id != primary.host.id][:alternates]
        planned.append(PlannedInstance(instance_id, primary, tuple(others), outcome.removed))
        work.replace(work.by_name[primary.host.name], primary.host.with_claim(primary.claim))
        spec = joined(spec, primary.host.name)
    return planned


def claimable(outcome: Outcome, spec: RequestSpec, wanted: int) -> list[Choice]:
    """The best `wanted` ranked hosts that can make the claim, best first."""
    choices: list[Choice] = []
    refused = 0
    for ranked in outcome.ranked:
        result = fit(ranked.host.inventory, ranked.host.usage, spec.resources)
        claim = result.claim
        if claim is None:
            refused += 1
            outcome.excluded[ranked.host.name] = Exclusion(CLAIM, result.reason)
            continue
        choices.append(Choice(ranked.host, claim, ranked.score, ranked.contributions))
        if len(choices) == wanted:
            break
    if refused:
        outcome.removed[CLAIM] = refused
        if not choices:
            outcome.last_filter = CLAIM
    return choices


def no_valid_host(instance_id: UUID, outcome: Outcome) -> NoValidHost:
    return NoValidHost(
        f"No valid host was found for instance {instance_id}: {outcome.explain()}",
        instance_id=str(instance_id),
        filter=outcome.last_filter,
        removed=outcome.removed,
        reasons={host: why.reason for host, why in outcome.excluded.items()},
    )


def joined(spec: RequestSpec, host: str) -> RequestSpec:
    """`spec` for the next instance once one was placed on `host`: its server group now
    has a member there."""
    group = spec.server_group
    if group is None:
        return spec
    member_hosts = (*group.member_hosts, host)
    return spec.model_copy(
        update={"server_group": group.model_copy(update={"member_hosts": member_hosts})}
    )


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
