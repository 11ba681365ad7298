"""Scheduler RPC: select_destinations(request_spec) -> a host and alternates per instance."""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Message, Model
from schemas.claims import Claim, ResourceRequest
from schemas.server_group import ServerGroupPolicy, ServerGroupRules
from schemas.types import HostName, NonNegInt, PositiveInt, Trait


class ServerGroupHint(Model):
    """The group an instance joins, with the hosts its members already use."""

    group_id: UUID
    policy: ServerGroupPolicy
    rules: ServerGroupRules = ServerGroupRules()
    member_hosts: tuple[HostName, ...] = ()


class RequestSpec(Model):
    """Everything the scheduler needs to place `num_instances` identical instances.

    `resources` is the flavor's share for one instance (vcpus, memory_mb, disk_gb) with its
    PCI requests (by alias: vendor/product and count; by port: vnic_type and
    physical_network) and NUMA topology.
    """

    instance_ids: Annotated[tuple[UUID, ...], Field(min_length=1)]
    num_instances: PositiveInt = 1
    project_id: UUID
    user_id: UUID | None = None
    flavor_id: UUID
    resources: ResourceRequest
    image_id: UUID | None = None
    image_properties: dict[str, str] = Field(default_factory=dict)
    # the flavor's extra specs, for the aggregate and capability filters (version 2)
    flavor_extra_specs: dict[str, str] = Field(default_factory=dict)
    availability_zone: str | None = None
    server_group: ServerGroupHint | None = None
    required_traits: frozenset[Trait] = frozenset()
    forbidden_traits: frozenset[Trait] = frozenset()
    aggregates: frozenset[str] = frozenset()
    ignore_hosts: frozenset[HostName] = frozenset()
    force_host: HostName | None = None
    attempt: NonNegInt = 0
    max_alternates: NonNegInt = 2

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.instance_ids) != self.num_instances:
            raise ValueError(
                f"{len(self.instance_ids)} instance ids for {self.num_instances} instances"
            )
        if len(set(self.instance_ids)) != len(self.instance_ids):
            raise ValueError("instance ids repeat")
        clash = self.required_traits & self.forbidden_traits
        if clash:
            raise ValueError(f"traits both required and forbidden: {sorted(clash)}")
        return self


class SelectDestinations(Message):
    message_name = "scheduler.select_destinations"
    message_version = 2  # 2: RequestSpec.flavor_extra_specs

    spec: RequestSpec


class Selection(Model):
    """A host for one instance and what it takes there. For the primary the claim is
    already written (the plan was applied); an alternate's claim is re-checked on use."""

    host_id: UUID
    host: HostName
    availability_zone: str
    claim: Claim
    generation: NonNegInt = 0


class InstanceSelection(Model):
    instance_id: UUID
    primary: Selection
    alternates: tuple[Selection, ...] = ()


class SelectDestinationsReply(Message):
    message_name = "scheduler.select_destinations.reply"
    message_version = 1

    selections: tuple[InstanceSelection, ...]
    plan_id: UUID


class ExplainPlacement(Message):
    """Why the scheduler would place `spec` where it would, without claiming anything:
    the pipeline re-run on the current host view (`GET /v1/servers/{id}/placement`)."""

    message_name = "scheduler.explain"
    message_version = 1

    spec: RequestSpec
    host: HostName | None = None  # also say why this host was or was not chosen
    limit: Annotated[int, Field(ge=1, le=100)] = 3  # how many of the best hosts to show


class FilterCount(Model):
    filter: str
    removed: NonNegInt


class HostWeight(Model):
    """A passing host's rank (0 is best), score, and each weigher's share of the score
    (its value normalised to [0, 1] times its multiplier)."""

    host: HostName
    rank: NonNegInt
    score: float
    contributions: dict[str, float] = Field(default_factory=dict)


class HostVerdict(Model):
    """One named host: the filter that removed it with the reason, or its weight."""

    host: HostName
    passed: bool
    filter: str | None = None
    reason: str | None = None
    weight: HostWeight | None = None


class ExplainPlacementReply(Message):
    message_name = "scheduler.explain.reply"
    message_version = 1

    considered: NonNegInt
    passed: NonNegInt
    filters: tuple[FilterCount, ...] = ()  # in the order they run
    last_filter: str | None = None  # the filter that removed the last hosts
    summary: str  # the text a NoValidHost would carry
    best: tuple[HostWeight, ...] = ()
    host: HostVerdict | None = None
