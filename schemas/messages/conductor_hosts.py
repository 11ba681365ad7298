"""Conductor RPC for the scheduler and the agents: plans, host views, registration.

A plan is optimistic: the scheduler made it on a host view; `apply_plan` re-checks every
host with schemas.fit inside one transaction, writes what still fits, bumps the host
generations, and reports the rest as conflicts so the scheduler retries on fresh state.
"""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Message, Model
from schemas.claims import Claim
from schemas.placement import Host, HostInventory, HostRole, HostUsage
from schemas.scheduling import HostFacts
from schemas.types import Generation, HostName, NonNegInt


class PlannedAllocation(Model):
    """Instance `instance_id` takes `claim` (amounts, PCI addresses, NUMA cells) on a host."""

    instance_id: UUID
    host_id: UUID
    claim: Claim


class HostGeneration(Model):
    host_id: UUID
    generation: Generation


class ApplyPlan(Message):
    """All allocations of a plan, and the generation of each host when it was seen."""

    message_name = "conductor.apply_plan"
    message_version = 1

    plan_id: UUID
    allocations: Annotated[tuple[PlannedAllocation, ...], Field(min_length=1)]
    host_generations: tuple[HostGeneration, ...]
    all_or_nothing: bool = False

    @model_validator(mode="after")
    def _generations_known(self) -> Self:
        seen = {entry.host_id for entry in self.host_generations}
        if len(seen) != len(self.host_generations):
            raise ValueError("a host generation is listed twice")
        missing = {a.host_id for a in self.allocations} - seen
        if missing:
            raise ValueError(f"no generation given for hosts {sorted(map(str, missing))}")
        instances = [a.instance_id for a in self.allocations]
        if len(instances) != len(set(instances)):
            raise ValueError("an instance is placed twice in one plan")
        return self


class HostConflict(Model):
    """Why the allocations on one host were not written, with the host's current state."""

    host_id: UUID
    instance_ids: tuple[UUID, ...]
    reason: str = Field(max_length=2048)
    generation: Generation
    usage: HostUsage | None = None


class ApplyPlanReply(Message):
    message_name = "conductor.apply_plan.reply"
    message_version = 1

    plan_id: UUID
    applied: tuple[UUID, ...] = ()
    conflicts: tuple[HostConflict, ...] = ()
    host_generations: tuple[HostGeneration, ...] = ()


class HostView(Message):
    """The scheduler asks for hosts: all of them, some, or those changed since a cursor."""

    message_name = "conductor.host_view"
    message_version = 1

    host_ids: tuple[UUID, ...] | None = None
    changed_since: NonNegInt | None = None
    include_disabled: bool = False


class HostSnapshot(Model):
    """A host, its usage, and its scheduling facts (None from a version 1 conductor)."""

    host: Host
    usage: HostUsage
    facts: HostFacts | None = None


class HostViewReply(Message):
    """Hosts with their state; with `changed_since`, only the hosts changed since, and
    `removed` those gone from the view (down, deleted, or disabled when not asked for).
    `cursor` is what to ask `changed_since` next; 0 when this reply is a whole view that
    cannot be continued (the next request must ask for a whole view)."""

    message_name = "conductor.host_view.reply"
    message_version = 2  # 2: HostSnapshot.facts

    hosts: tuple[HostSnapshot, ...] = ()
    removed: tuple[UUID, ...] = ()
    cursor: NonNegInt = 0


class RegisterHost(Message):
    """An agent announces itself on start; the reply names its host id."""

    message_name = "conductor.register_host"
    message_version = 1

    name: HostName
    incarnation: UUID  # new on every agent start: heartbeats of an older one are refused
    roles: Annotated[frozenset[HostRole], Field(min_length=1)]
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    inventory: HostInventory | None = None
    agent_version: str = Field(min_length=1, max_length=64)
    started_at: AwareDatetime

    @model_validator(mode="after")
    def _compute_inventory(self) -> Self:
        if HostRole.COMPUTE in self.roles and self.inventory is None:
            raise ValueError("a compute agent registers with its inventory")
        return self


class RegisterHostReply(Message):
    message_name = "conductor.register_host.reply"
    message_version = 1

    host_id: UUID
    generation: Generation
    heartbeat_interval_s: Annotated[float, Field(gt=0)] = 10.0


class Heartbeat(Message):
    """An agent is alive (cast); missing for `down_after_s` marks the host down."""

    message_name = "conductor.heartbeat"
    message_version = 1

    host_id: UUID
    name: HostName
    incarnation: UUID
    sequence: Annotated[int, Field(ge=1)]  # increasing within one incarnation
    sent_at: AwareDatetime
    running_tasks: NonNegInt = 0


class ListHosts(Message):
    """Every registered host with its liveness (`skymesh status`, operators)."""

    message_name = "conductor.list_hosts"
    message_version = 1

    role: HostRole | None = None


class HostStatus(Model):
    name: HostName
    roles: frozenset[HostRole]
    is_up: bool
    enabled: bool
    availability_zone: str | None = None
    last_heartbeat_at: AwareDatetime | None = None


class ListHostsReply(Message):
    message_name = "conductor.list_hosts.reply"
    message_version = 1

    hosts: tuple[HostStatus, ...] = ()
