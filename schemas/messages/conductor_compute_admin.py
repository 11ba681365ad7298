"""Conductor RPC behind the compute catalog and operator APIs (gateway/compute_admin*.py):
flavors with extra specs and access, key pairs, server groups, quota sets, compute
services, hypervisors, availability zones and aggregates.

The conductor scopes every call by the caller's context: a user sees their own key pairs,
a project its own server groups and quotas and the flavors it may use; the operator calls
(flavor writes, services, hypervisors, aggregates, other projects' quotas) are admin only.
"""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from schemas.base import Message
from schemas.compute import ExtraSpecs, Flavor
from schemas.compute_admin import (
    Aggregate,
    AvailabilityZone,
    ComputeService,
    Hypervisor,
    KeyPair,
    KeyPairName,
    KeyPairType,
    QuotaSet,
    ZoneName,
)
from schemas.server_group import ServerGroup, ServerGroupPolicy, ServerGroupRules
from schemas.types import Description, HostName, Name, NonNegInt, PositiveInt

QuotaResource = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
SpecKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]

# -- flavors -----------------------------------------------------------------------------


class SearchFlavors(Message):
    """Flavors by size. `is_public`: True for public ones and the private ones the
    caller's project may use, False for private ones only, None for all (the last two
    are for admins; others always get True)."""

    message_name = "conductor.search_flavors"
    message_version = 1

    is_public: bool | None = True
    min_ram_mb: NonNegInt | None = None
    min_disk_gb: NonNegInt | None = None
    limit: PositiveInt | None = None
    marker: UUID | None = None


class FlavorsReply(Message):
    message_name = "conductor.search_flavors.reply"
    message_version = 1

    flavors: tuple[Flavor, ...] = ()


class GetFlavor(Message):
    message_name = "conductor.get_flavor"
    message_version = 1

    flavor_id: UUID


class FlavorReply(Message):
    message_name = "conductor.flavor.reply"
    message_version = 1

    flavor: Flavor


class CreateFlavor(Message):
    message_name = "conductor.create_flavor"
    message_version = 1

    name: Name
    vcpus: PositiveInt
    memory_mb: PositiveInt
    disk_gb: NonNegInt = 0
    ephemeral_gb: NonNegInt = 0
    swap_mb: NonNegInt = 0
    is_public: bool = True
    description: Description | None = None
    flavor_id: UUID | None = None


class UpdateFlavor(Message):
    message_name = "conductor.update_flavor"
    message_version = 1

    flavor_id: UUID
    description: Description | None = None


class DeleteFlavor(Message):
    message_name = "conductor.delete_flavor"
    message_version = 1

    flavor_id: UUID


class SetFlavorExtraSpecs(Message):
    """Add or overwrite extra specs (validated as `schemas.compute.ExtraSpecs`)."""

    message_name = "conductor.set_flavor_extra_specs"
    message_version = 1

    flavor_id: UUID
    extra_specs: ExtraSpecs = Field(min_length=1)


class UnsetFlavorExtraSpec(Message):
    message_name = "conductor.unset_flavor_extra_spec"
    message_version = 1

    flavor_id: UUID
    key: SpecKey


class GetFlavorAccess(Message):
    message_name = "conductor.get_flavor_access"
    message_version = 1

    flavor_id: UUID


class ChangeFlavorAccess(Message):
    """Give (`grant`) or take back a project's access to a private flavor."""

    message_name = "conductor.change_flavor_access"
    message_version = 1

    flavor_id: UUID
    project_id: UUID
    grant: bool


class FlavorAccessReply(Message):
    message_name = "conductor.flavor_access.reply"
    message_version = 1

    flavor_id: UUID
    project_ids: tuple[UUID, ...] = ()


# -- key pairs ---------------------------------------------------------------------------


class ListKeyPairs(Message):
    """The key pairs of `user_id` (admins only; the caller's own by default), by name
    after `marker`."""

    message_name = "conductor.list_keypairs"
    message_version = 1

    user_id: UUID | None = None
    limit: PositiveInt | None = None
    marker: KeyPairName | None = None


class KeyPairsReply(Message):
    message_name = "conductor.list_keypairs.reply"
    message_version = 1

    keypairs: tuple[KeyPair, ...] = ()


class GetKeyPair(Message):
    message_name = "conductor.get_keypair"
    message_version = 1

    name: KeyPairName
    user_id: UUID | None = None


class CreateKeyPair(Message):
    """Store a public key (the gateway generates the pair when the user gave none); the
    conductor checks the key and computes its fingerprint."""

    message_name = "conductor.create_keypair"
    message_version = 1

    name: KeyPairName
    type: KeyPairType = KeyPairType.SSH
    public_key: str = Field(min_length=1, max_length=16384)
    user_id: UUID | None = None


class KeyPairReply(Message):
    message_name = "conductor.keypair.reply"
    message_version = 1

    keypair: KeyPair


class DeleteKeyPair(Message):
    message_name = "conductor.delete_keypair"
    message_version = 1

    name: KeyPairName
    user_id: UUID | None = None


# -- server groups -----------------------------------------------------------------------


class ListServerGroups(Message):
    """The project's server groups (every project's with `all_tenants` in the context)."""

    message_name = "conductor.list_server_groups"
    message_version = 1

    limit: PositiveInt | None = None
    offset: NonNegInt = 0


class ServerGroupsReply(Message):
    message_name = "conductor.list_server_groups.reply"
    message_version = 1

    server_groups: tuple[ServerGroup, ...] = ()


class GetServerGroup(Message):
    message_name = "conductor.get_server_group"
    message_version = 1

    group_id: UUID


class CreateServerGroup(Message):
    message_name = "conductor.create_server_group"
    message_version = 1

    name: Name
    policy: ServerGroupPolicy
    rules: ServerGroupRules = ServerGroupRules()

    @model_validator(mode="after")
    def _rules_fit_policy(self) -> Self:
        if (
            self.rules.max_server_per_host is not None
            and self.policy is not ServerGroupPolicy.ANTI_AFFINITY
        ):
            raise ValueError("max_server_per_host is only valid with the anti-affinity policy")
        return self


class ServerGroupReply(Message):
    message_name = "conductor.server_group.reply"
    message_version = 1

    server_group: ServerGroup


class DeleteServerGroup(Message):
    message_name = "conductor.delete_server_group"
    message_version = 1

    group_id: UUID


# -- quotas ------------------------------------------------------------------------------


class GetQuotaSet(Message):
    """A project's limits and usage (the caller's project; any for admins); with
    `defaults`, the limits every project starts with instead."""

    message_name = "conductor.get_quota_set"
    message_version = 1

    project_id: UUID
    defaults: bool = False


class UpdateQuotaSet(Message):
    """Set limits (admin); a limit below what is used is refused unless `force`."""

    message_name = "conductor.update_quota_set"
    message_version = 1

    project_id: UUID
    limits: dict[QuotaResource, Annotated[int, Field(ge=-1)]] = Field(min_length=1)
    force: bool = False


class DeleteQuotaSet(Message):
    """Forget a project's own limits: the defaults apply again (admin)."""

    message_name = "conductor.delete_quota_set"
    message_version = 1

    project_id: UUID


class QuotaSetReply(Message):
    message_name = "conductor.quota_set.reply"
    message_version = 1

    quota_set: QuotaSet


# -- compute services, hypervisors, zones --------------------------------------------------


class ServiceRef(Message):
    """One compute service by uuid (2.53+), integer id (before) or host name."""

    service_id: UUID | None = None
    number: PositiveInt | None = None
    host: HostName | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.service_id, self.number, self.host) if v is not None]
        if len(given) != 1:
            raise ValueError("name the service by exactly one of service_id, number, host")
        return self


class ListServices(Message):
    message_name = "conductor.list_services"
    message_version = 1

    host: HostName | None = None
    binary: str | None = Field(None, max_length=255)


class ServicesReply(Message):
    message_name = "conductor.list_services.reply"
    message_version = 1

    services: tuple[ComputeService, ...] = ()


class UpdateService(ServiceRef):
    """Enable, disable (with a reason) or force down a compute service; fields left None
    stay as they are."""

    message_name = "conductor.update_service"
    message_version = 1

    enabled: bool | None = None
    disabled_reason: str | None = Field(None, max_length=255)
    forced_down: bool | None = None


class ServiceReply(Message):
    message_name = "conductor.service.reply"
    message_version = 1

    service: ComputeService


class DeleteService(ServiceRef):
    """Forget a compute host that runs no servers (an agent that comes back registers
    again)."""

    message_name = "conductor.delete_service"
    message_version = 1


class ListHypervisors(Message):
    """Hypervisors, optionally one (by uuid or integer id) or those whose host name
    contains `pattern`; `with_servers` lists each one's servers."""

    message_name = "conductor.list_hypervisors"
    message_version = 1

    hypervisor_id: UUID | None = None
    number: PositiveInt | None = None
    pattern: str | None = Field(None, min_length=1, max_length=255)
    with_servers: bool = False


class HypervisorsReply(Message):
    message_name = "conductor.list_hypervisors.reply"
    message_version = 1

    hypervisors: tuple[Hypervisor, ...] = ()


class ListAvailabilityZones(Message):
    message_name = "conductor.list_availability_zones"
    message_version = 1


class AvailabilityZonesReply(Message):
    message_name = "conductor.list_availability_zones.reply"
    message_version = 1

    zones: tuple[AvailabilityZone, ...] = ()


# -- aggregates --------------------------------------------------------------------------


class ListAggregates(Message):
    message_name = "conductor.list_aggregates"
    message_version = 1


class AggregatesReply(Message):
    message_name = "conductor.list_aggregates.reply"
    message_version = 1

    aggregates: tuple[Aggregate, ...] = ()


class GetAggregate(Message):
    message_name = "conductor.get_aggregate"
    message_version = 1

    number: PositiveInt


class CreateAggregate(Message):
    message_name = "conductor.create_aggregate"
    message_version = 1

    name: Name
    availability_zone: ZoneName | None = None


class UpdateAggregate(Message):
    message_name = "conductor.update_aggregate"
    message_version = 1

    number: PositiveInt
    name: Name | None = None
    availability_zone: ZoneName | None = None


class DeleteAggregate(Message):
    message_name = "conductor.delete_aggregate"
    message_version = 1

    number: PositiveInt


class ChangeAggregateHost(Message):
    """Add (`add`) or remove a host; a host is in one availability zone at most."""

    message_name = "conductor.change_aggregate_host"
    message_version = 1

    number: PositiveInt
    host: HostName
    add: bool


class SetAggregateMetadata(Message):
    """Set metadata keys; a None value removes the key. `availability_zone` moves the
    aggregate's hosts to that zone."""

    message_name = "conductor.set_aggregate_metadata"
    message_version = 1

    number: PositiveInt
    metadata: dict[SpecKey, Annotated[str, StringConstraints(max_length=255)] | None] = Field(
        min_length=1
    )


class AggregateReply(Message):
    message_name = "conductor.aggregate.reply"
    message_version = 1

    aggregate: Aggregate
