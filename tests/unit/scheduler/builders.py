"""Host states and request specs for the scheduler's unit tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import numpy as np

from scheduler.filters import Filter, Verdict
from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from schemas.claims import ResourceRequest
from schemas.messages.scheduler import RequestSpec
from schemas.placement import Host, HostInventory, HostRole, HostUsage
from schemas.scheduling import NO_FACTS, HostFacts

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
    usage: dict[str, Any] | None = None,
    facts: HostFacts = NO_FACTS,
    **fields: Any,
) -> HostState:
    """A compute host offering `vcpus`/`memory_mb`/`disk_gb` (cpu ratio 1.0 unless set in
    `inventory`) of which `used` (vcpus, memory_mb, disk_gb) is taken, with more of its
    usage (PCI devices, NUMA cells) in `usage` and its scheduling `facts`."""
    inv = HostInventory(
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=disk_gb,
        **{"cpu_allocation_ratio": 1.0, **(inventory or {})},
    )
    roles = fields.pop("roles", frozenset({HostRole.COMPUTE}))
    h = Host(id=fields.pop("id", uuid4()), name=name, roles=roles, inventory=inv, **fields)
    taken = HostUsage(vcpus=used[0], memory_mb=used[1], disk_gb=used[2], **(usage or {}))
    return HostState(h, taken, facts)


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


def judge(flt: Filter, state: HostState, request: RequestSpec) -> Verdict:
    """`flt.host_passes`, after checking that the batch form agrees on this host."""
    verdict = flt.host_passes(state, request)
    index = HostIndex([state])
    kept = flt.passing(index, request, index.all_rows)
    assert np.array_equal(kept, index.all_rows if verdict else index.all_rows[:0]), (
        f"{flt.name}: batch form says {len(kept) == 1}, per-host form {bool(verdict)}"
    )
    return verdict
