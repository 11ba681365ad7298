"""The claims-without-races property: four schedulers, each with its own cached host
view, place random batches of concurrent requests on random hosts through the real
conductor on PostgreSQL, and whatever they manage to place never over-commits a host.

Each example registers its hosts (random amounts and ratios, some in an aggregate that
lowers the CPU ratio, some with a PF and VFs, some with two NUMA cells) in a zone of its
own, runs the requests (some asking for a VF or a whole PF, some for pinned CPUs, some
members of one hard anti-affinity group whose hint names no member hosts, so only the
conductor's transaction can keep them apart) and audits the database
(tests/functional/scheduler/race_audit.py). A request may fail (NoValidHost, or
PlanConflict when hosts keep changing); a placement that breaks a limit fails the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conductor.db.pool import open_pool
from conductor.db.queries import admin_server_groups as groups
from conductor.db.queries import aggregates, identity, instances
from corebus.client import Client
from corebus.config import DatabaseSettings
from corebus.envelope import RequestContext
from scheduler.conductor_api import BusConductor
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler
from schemas.claims import ResourceRequest
from schemas.errors import NoValidHost, PlanConflict
from schemas.messages.scheduler import RequestSpec, SelectDestinations, ServerGroupHint
from schemas.numa import CpuPolicy, NumaRequest
from schemas.pci import PciRequest
from schemas.placement import HostInventory
from schemas.server_group import ServerGroupPolicy, ServerGroupRules
from tests.functional.scheduler import race_audit
from tests.functional.scheduler.mesh import conductor_bus, register, zone
from tests.unit.scheduler.topology import cells, pf, vfs

pytestmark = pytest.mark.functional

SCHEDULERS = 4
CTX = RequestContext()
VF = PciRequest(vendor_id="8086", product_id="154c")
WHOLE_PF = PciRequest(vendor_id="8086", product_id="1572")
STRICT = {"cpu_allocation_ratio": "1.0"}  # the aggregate some hosts are in

host_shapes = st.fixed_dictionaries(
    {
        "vcpus": st.sampled_from([2, 4, 8]),
        "memory_mb": st.sampled_from([2048, 4096]),
        "disk_gb": st.sampled_from([20, 40]),
        "cpu_allocation_ratio": st.sampled_from([1.0, 2.0, 4.0]),
        "reserved_memory_mb": st.sampled_from([0, 512]),
        "vfs": st.none() | st.integers(0, 3),  # None: no PF at all
        "numa": st.booleans(),
        "strict": st.booleans(),
    }
)
request_shapes = st.fixed_dictionaries(
    {
        "count": st.integers(1, 3),
        "vcpus": st.sampled_from([1, 2]),
        "memory_mb": st.sampled_from([512, 1024]),
        "disk_gb": st.sampled_from([5, 10]),
        "kind": st.sampled_from(["plain", "plain", "vf", "pf", "pinned"]),
        "grouped": st.booleans(),
    }
)


@dataclass
class Example:
    """One example's hosts and what they offer."""

    az: str
    offered: dict[UUID, HostInventory]
    metadata: dict[UUID, dict[str, dict[str, str]]]


def inventory(shape: dict[str, Any]) -> HostInventory:
    devices = () if shape["vfs"] is None else (pf(0x3B), *vfs(pf(0x3B), shape["vfs"]))
    return HostInventory(
        vcpus=shape["vcpus"],
        memory_mb=shape["memory_mb"],
        disk_gb=shape["disk_gb"],
        cpu_allocation_ratio=shape["cpu_allocation_ratio"],
        reserved_memory_mb=shape["reserved_memory_mb"],
        pci_devices=devices,
        numa_cells=cells(2, cpus=2, memory_mb=shape["memory_mb"] // 2) if shape["numa"] else (),
    )


async def register_hosts(
    client: Client, pool: asyncpg.Pool, shapes: list[dict[str, Any]]
) -> Example:
    example = Example(zone(), {}, {})
    aggregate = f"strict-{uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        made = await aggregates.create_aggregate(conn, aggregate, STRICT)
        for shape in shapes:
            name, offered = f"race-{uuid4().hex[:8]}", inventory(shape)
            host_id = (await register(client, name, offered, example.az)).host_id
            example.offered[host_id] = offered
            if shape["strict"]:
                await aggregates.add_host(conn, made["id"], name)
                example.metadata[host_id] = {aggregate: STRICT}
    return example


def resources(shape: dict[str, Any]) -> ResourceRequest:
    vcpus, memory = shape["vcpus"], shape["memory_mb"]
    kind = shape["kind"]
    return ResourceRequest(
        vcpus=vcpus,
        memory_mb=memory,
        disk_gb=shape["disk_gb"],
        pci={"vf": (VF,), "pf": (WHOLE_PF,)}.get(kind, ()),
        numa=NumaRequest.split(vcpus, memory, 1, CpuPolicy.DEDICATED) if kind == "pinned" else None,
    )


async def requests(
    pool: asyncpg.Pool, az: str, shapes: list[dict[str, Any]], per_host: int
) -> tuple[list[RequestSpec], UUID]:
    """The request specs (their instances exist, the grouped ones are members of one hard
    anti-affinity group) and the group's id."""
    async with pool.acquire() as conn:
        project = (await identity.create_project(conn, f"race-{uuid4().hex[:10]}"))["id"]
        user = uuid4()
        rules = {"max_server_per_host": per_host} if per_host > 1 else {}
        group = await groups.insert_group(conn, project, user, "race", "anti-affinity", rules)
        hint = ServerGroupHint(
            group_id=group["id"],
            policy=ServerGroupPolicy.ANTI_AFFINITY,
            rules=ServerGroupRules.model_validate(rules),
        )
        specs = []
        for shape in shapes:
            ids = [await _instance(conn, project, user) for _ in range(shape["count"])]
            if shape["grouped"]:
                await groups.add_members(conn, group["id"], ids)
            specs.append(
                RequestSpec(
                    instance_ids=tuple(ids),
                    num_instances=len(ids),
                    project_id=project,
                    flavor_id=uuid4(),
                    resources=resources(shape),
                    availability_zone=az,
                    server_group=hint if shape["grouped"] else None,
                )
            )
    return specs, group["id"]


async def _instance(conn: Any, project: UUID, user: UUID) -> UUID:
    row = await instances.insert_instance(
        conn, project_id=project, user_id=user, name="race", flavor={"name": "race"}
    )
    assert row is not None
    instance_id: UUID = row["id"]
    return instance_id


async def place_all(client: Client, specs: Sequence[RequestSpec]) -> None:
    """Every request at once, spread over the schedulers; only clean failures allowed."""
    settings = SchedulerSettings(host_view_max_age_s=5.0, retry_backoff_s=0.005)
    schedulers = [Scheduler(BusConductor(client, timeout=10), settings) for _ in range(SCHEDULERS)]
    outcomes = await asyncio.gather(
        *(
            schedulers[n % SCHEDULERS].select_destinations(CTX, SelectDestinations(spec=spec))
            for n, spec in enumerate(specs)
        ),
        return_exceptions=True,
    )
    unexpected = [o for o in outcomes if isinstance(o, BaseException)]
    unexpected = [o for o in unexpected if not isinstance(o, NoValidHost | PlanConflict)]
    assert not unexpected, unexpected


async def audit(pool: asyncpg.Pool, example: Example, group_id: UUID, per_host: int) -> None:
    hosts = list(example.offered)
    async with pool.acquire() as conn:
        found = await race_audit.amounts(conn, example.offered, example.metadata)
        found += await race_audit.devices(conn, hosts)
        found += await race_audit.numa(conn, hosts)
        found += await race_audit.anti_affinity(conn, group_id, per_host)
        # out of the next examples' views
        await conn.execute("UPDATE hosts SET forced_down = true WHERE id = ANY($1)", hosts)
    assert not found, found


async def run_example(
    dsn: str, host_list: list[dict[str, Any]], batch: list[dict[str, Any]], per_host: int
) -> None:
    async with (
        open_pool(DatabaseSettings(dsn=dsn, pool_min=1, pool_max=12)) as pool,
        conductor_bus(pool) as bus,
    ):
        client = Client(bus)
        example = await register_hosts(client, pool, host_list)
        specs, group_id = await requests(pool, example.az, batch, per_host)
        await place_all(client, specs)
        await audit(pool, example, group_id, per_host)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(
    host_list=st.lists(host_shapes, min_size=2, max_size=5),
    batch=st.lists(request_shapes, min_size=4, max_size=8),
    per_host=st.sampled_from([1, 1, 2]),
)
def test_concurrent_schedulers_never_over_commit(
    placement_dsn: str, host_list: list[dict[str, Any]], batch: list[dict[str, Any]], per_host: int
) -> None:
    asyncio.run(run_example(placement_dsn, host_list, batch, per_host))
