"""Samples of the compute_admin area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from schemas.base import Message
from schemas.compute import Flavor
from schemas.compute_admin import (
    Aggregate,
    AvailabilityZone,
    ComputeService,
    Hypervisor,
    HypervisorServer,
    KeyPair,
    KeyPairType,
    QuotaSet,
)
from schemas.messages import conductor_compute_admin as ca
from schemas.server_group import ServerGroup, ServerGroupPolicy, ServerGroupRules

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
FLAVOR = Flavor(
    id=UUID(int=10), name="m1.tiny", vcpus=1, memory_mb=512, extra_specs={"hw:numa_nodes": "1"}
)
KEYPAIR = KeyPair(
    name="mykey",
    user_id=UUID(int=1),
    type=KeyPairType.SSH,
    public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG user@host",
    fingerprint="aa:bb",
    created_at=NOW,
)
GROUP = ServerGroup(
    id=UUID(int=20),
    name="spread",
    project_id=UUID(int=2),
    user_id=UUID(int=1),
    policy=ServerGroupPolicy.ANTI_AFFINITY,
    rules=ServerGroupRules(max_server_per_host=2),
    members=(UUID(int=30),),
    created_at=NOW,
)
SERVICE = ComputeService(
    id=UUID(int=40),
    number=1,
    host="compute-1",
    zone="az1",
    enabled=False,
    disabled_reason="maintenance",
    updated_at=NOW,
)
AGGREGATE = Aggregate(
    id=UUID(int=50),
    number=3,
    name="rack1",
    availability_zone="az1",
    hosts=("compute-1",),
    metadata={"availability_zone": "az1", "ssd": "true"},
    created_at=NOW,
    updated_at=NOW,
)


def messages() -> list[Message]:
    return [
        *_flavors(),
        *_keypairs_and_groups(),
        *_quotas(),
        *_hosts(),
        *_aggregates(),
    ]


def _flavors() -> list[Message]:
    return [
        ca.SearchFlavors(is_public=None, min_ram_mb=512, min_disk_gb=1, limit=5, marker=FLAVOR.id),
        ca.FlavorsReply(flavors=(FLAVOR,)),
        ca.GetFlavor(flavor_id=FLAVOR.id),
        ca.FlavorReply(flavor=FLAVOR),
        ca.CreateFlavor(
            name="m1.big", vcpus=4, memory_mb=8192, disk_gb=80, is_public=False, description="x"
        ),
        ca.UpdateFlavor(flavor_id=FLAVOR.id, description="small"),
        ca.DeleteFlavor(flavor_id=FLAVOR.id),
        ca.SetFlavorExtraSpecs(flavor_id=FLAVOR.id, extra_specs={"hw:cpu_policy": "dedicated"}),
        ca.UnsetFlavorExtraSpec(flavor_id=FLAVOR.id, key="hw:cpu_policy"),
        ca.GetFlavorAccess(flavor_id=FLAVOR.id),
        ca.ChangeFlavorAccess(flavor_id=FLAVOR.id, project_id=UUID(int=2), grant=True),
        ca.FlavorAccessReply(flavor_id=FLAVOR.id, project_ids=(UUID(int=2),)),
    ]


def _keypairs_and_groups() -> list[Message]:
    return [
        ca.ListKeyPairs(user_id=UUID(int=1), limit=10, marker="a"),
        ca.KeyPairsReply(keypairs=(KEYPAIR,)),
        ca.GetKeyPair(name="mykey"),
        ca.CreateKeyPair(name="mykey", public_key=KEYPAIR.public_key, user_id=UUID(int=1)),
        ca.KeyPairReply(keypair=KEYPAIR),
        ca.DeleteKeyPair(name="mykey"),
        ca.ListServerGroups(limit=10, offset=5),
        ca.ServerGroupsReply(server_groups=(GROUP,)),
        ca.GetServerGroup(group_id=GROUP.id),
        ca.CreateServerGroup(
            name="spread",
            policy=ServerGroupPolicy.ANTI_AFFINITY,
            rules=ServerGroupRules(max_server_per_host=2),
        ),
        ca.ServerGroupReply(server_group=GROUP),
        ca.DeleteServerGroup(group_id=GROUP.id),
    ]


def _quotas() -> list[Message]:
    quota = QuotaSet(
        project_id=UUID(int=2),
        limits={"instances": 10, "cores": -1},
        in_use={"instances": 1},
        reserved={"instances": 0},
    )
    return [
        ca.GetQuotaSet(project_id=UUID(int=2), defaults=True),
        ca.UpdateQuotaSet(project_id=UUID(int=2), limits={"instances": 0}, force=True),
        ca.DeleteQuotaSet(project_id=UUID(int=2)),
        ca.QuotaSetReply(quota_set=quota),
    ]


def _hosts() -> list[Message]:
    hypervisor = Hypervisor(
        service=SERVICE,
        hypervisor_type="QEMU",
        hypervisor_version=8002000,
        cpu_model="Skylake",
        vcpus=16,
        vcpus_used=2,
        memory_mb=32768,
        memory_mb_used=1024,
        local_gb=500,
        local_gb_used=10,
        running_vms=1,
        current_workload=1,
        servers=(HypervisorServer(id=UUID(int=30), name="vm1"),),
    )
    return [
        ca.ListServices(host="compute-1", binary="nova-compute"),
        ca.ServicesReply(services=(SERVICE,)),
        ca.UpdateService(service_id=SERVICE.id, enabled=False, disabled_reason="maintenance"),
        ca.ServiceReply(service=SERVICE),
        ca.DeleteService(number=1),
        ca.ListHypervisors(pattern="compute", with_servers=True),
        ca.HypervisorsReply(hypervisors=(hypervisor,)),
        ca.ListAvailabilityZones(),
        ca.AvailabilityZonesReply(
            zones=(AvailabilityZone(name="az1", available=False, services=(SERVICE,)),)
        ),
    ]


def _aggregates() -> list[Message]:
    return [
        ca.ListAggregates(),
        ca.AggregatesReply(aggregates=(AGGREGATE,)),
        ca.GetAggregate(number=3),
        ca.CreateAggregate(name="rack1", availability_zone="az1"),
        ca.UpdateAggregate(number=3, name="rack2"),
        ca.DeleteAggregate(number=3),
        ca.ChangeAggregateHost(number=3, host="compute-1", add=True),
        ca.SetAggregateMetadata(number=3, metadata={"ssd": "true", "old": None}),
        ca.AggregateReply(aggregate=AGGREGATE),
    ]
