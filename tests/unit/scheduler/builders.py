"""Host states and request specs for the scheduler's unit tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from scheduler.host_state import HostState
from schemas.claims import ResourceRequest
from schemas.messages.scheduler import RequestSpec
from schemas.placement import Host, HostInventory, HostRole, HostUsage

PROJECT = UUID(int=1)
FLAVOR = UUID(int=2)


def host(
    name: str = "cmp1",
    *,
    vcpus: int = 8,
    memory_mb: int = 16384,
    disk_gb: int = 100,
    used: tuple[int, int, int] = (0, 0, 0),
    inventory: dict[str, Any] | None = None,
    **fields: Any,
) -> HostState:
    """A compute host offering `vcpus`/`memory_mb`/`disk_gb` (ratios 1.0 unless set in
    `inventory`) of which `used` (vcpus, memory_mb, disk_gb) is taken."""
    inv = HostInventory(
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=disk_gb,
        **{"cpu_allocation_ratio": 1.0, **(inventory or {})},
    )
    roles = fields.pop("roles", frozenset({HostRole.COMPUTE}))
    h = Host(id=fields.pop("id", uuid4()), name=name, roles=roles, inventory=inv, **fields)
    usage = HostUsage(vcpus=used[0], memory_mb=used[1], disk_gb=used[2])
    return HostState(h, usage)


def spec(
    vcpus: int = 1,
    memory_mb: int = 1024,
    disk_gb: int = 10,
    *,
    instances: int = 1,
    **fields: Any,
) -> RequestSpec:
    ids = tuple(uuid4() for _ in range(instances))
    return RequestSpec(
        instance_ids=ids,
        num_instances=instances,
        project_id=PROJECT,
        flavor_id=FLAVOR,
        resources=ResourceRequest(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb),
        **fields,
    )
