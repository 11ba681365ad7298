"""`conductor.apply_plan`: writes what still fits in one transaction, refuses a host whose
generation moved and a claim that no longer fits, and reports each refused host with its
current generation and usage."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg
import pytest

from conductor.db.queries import aggregates, allocations
from conductor.placement import release
from corebus.client import Client
from schemas.claims import Claim, NumaCellClaim, PciClaim
from schemas.errors import NotFound
from schemas.messages.conductor_hosts import (
    ApplyPlan,
    ApplyPlanReply,
    HostGeneration,
    HostView,
    HostViewReply,
    PlannedAllocation,
)
from schemas.numa import NumaCell
from schemas.pci import PciDevice, PciDeviceType
from schemas.placement import HostInventory, HostUsage, NumaCellUsage
from tests.functional.scheduler.mesh import new_instances, register, zone

pytestmark = pytest.mark.functional

SMALL = HostInventory(
    vcpus=4, memory_mb=4096, disk_gb=40, cpu_allocation_ratio=1.0, reserved_memory_mb=1024
)
ONE_GB = Claim(vcpus=1, memory_mb=1024, disk_gb=10)


async def host(client: Client, inventory: HostInventory = SMALL) -> tuple[UUID, int]:
    reply = await register(client, f"cmp-{uuid4().hex[:8]}", inventory, zone())
    return reply.host_id, reply.generation


def plan(
    entries: list[tuple[UUID, UUID, Claim]], generations: dict[UUID, int], **fields: object
) -> ApplyPlan:
    return ApplyPlan(
        plan_id=uuid4(),
        allocations=tuple(
            PlannedAllocation(instance_id=i, host_id=h, claim=c) for i, h, c in entries
        ),
        host_generations=tuple(
            HostGeneration(host_id=h, generation=g) for h, g in generations.items()
        ),
        **fields,
    )


async def apply(client: Client, message: ApplyPlan) -> ApplyPlanReply:
    return await client.call("conductor.apply_plan", message, ApplyPlanReply)


async def usage_of(client: Client, host_id: UUID) -> tuple[int, HostUsage]:
    reply = await client.call("conductor.host_view", HostView(host_ids=(host_id,)), HostViewReply)
    (snapshot,) = reply.hosts
    return snapshot.host.generation, snapshot.usage


async def test_a_plan_is_written_and_bumps_the_generation(
    client: Client, pool: asyncpg.Pool
) -> None:
    host_id, generation = await host(client)
    _, (a, b) = await new_instances(pool, 2)

    reply = await apply(
        client, plan([(a, host_id, ONE_GB), (b, host_id, ONE_GB)], {host_id: generation})
    )

    assert set(reply.applied) == {a, b}
    assert reply.conflicts == ()
    (new,) = reply.host_generations
    assert new.generation > generation
    assert await usage_of(client, host_id) == (
        new.generation,
        HostUsage(vcpus=2, memory_mb=2048, disk_gb=20, instances=2),
    )


async def test_a_stale_generation_is_refused_with_the_current_state(
    client: Client, pool: asyncpg.Pool
) -> None:
    host_id, seen = await host(client)
    _, (a, b) = await new_instances(pool, 2)
    first = await apply(client, plan([(a, host_id, ONE_GB)], {host_id: seen}))

    second = await apply(client, plan([(b, host_id, ONE_GB)], {host_id: seen}))

    assert second.applied == ()
    (conflict,) = second.conflicts
    assert conflict.instance_ids == (b,)
    assert "generation" in conflict.reason
    assert conflict.generation == first.host_generations[0].generation
    assert conflict.usage == HostUsage(vcpus=1, memory_mb=1024, disk_gb=10, instances=1)
    async with pool.acquire() as conn:
        assert await allocations.for_consumer(conn, b) == []


async def test_a_plan_that_no_longer_fits_is_refused(client: Client, pool: asyncpg.Pool) -> None:
    host_id, generation = await host(client)  # 3072 MB usable: 4096 - 1024 reserved
    _, (a, b) = await new_instances(pool, 2)
    big = Claim(vcpus=1, memory_mb=2048, disk_gb=1)
    first = await apply(client, plan([(a, host_id, big)], {host_id: generation}))
    current = first.host_generations[0].generation

    second = await apply(client, plan([(b, host_id, big)], {host_id: current}))

    assert second.applied == ()
    (conflict,) = second.conflicts
    assert "no longer fits" in conflict.reason
    assert "memory_mb: requested 2048 MB, free 1024 MB" in conflict.reason
    assert conflict.generation == current


async def test_hosts_apply_independently_unless_all_or_nothing(
    client: Client, pool: asyncpg.Pool
) -> None:
    good, good_gen = await host(client)
    stale, stale_gen = await host(client)
    _, (a, b, c, d) = await new_instances(pool, 4)
    generations = {good: good_gen, stale: stale_gen - 1 if stale_gen else stale_gen + 1}

    together = await apply(
        client,
        plan([(a, good, ONE_GB), (b, stale, ONE_GB)], generations, all_or_nothing=True),
    )
    apart = await apply(client, plan([(c, good, ONE_GB), (d, stale, ONE_GB)], generations))

    assert together.applied == () and together.host_generations == ()
    assert [x.host_id for x in together.conflicts] == [stale]
    assert apart.applied == (c,)
    assert [x.host_id for x in apart.conflicts] == [stale]
    async with pool.acquire() as conn:
        assert await allocations.for_consumer(conn, a) == []


async def test_unknown_instances_are_refused(client: Client) -> None:
    host_id, generation = await host(client)

    with pytest.raises(NotFound):
        await apply(client, plan([(uuid4(), host_id, ONE_GB)], {host_id: generation}))


async def test_pci_devices_and_numa_pins_are_written_and_released(
    client: Client, pool: asyncpg.Pool
) -> None:
    inventory = SMALL.model_copy(
        update={
            "numa_cells": (NumaCell(id=0, cpus=frozenset({0, 1, 2, 3}), memory_mb=3072),),
            "pci_devices": (
                PciDevice(
                    address="0000:af:00.0",
                    vendor_id="10de",
                    product_id="1db4",
                    dev_type=PciDeviceType.PCI,
                    numa_node=0,
                ),
            ),
        }
    )
    host_id, generation = await host(client, inventory)
    _, (a, b) = await new_instances(pool, 2)
    pinned = Claim(
        memory_mb=1024,
        disk_gb=1,
        pci_devices=(
            PciClaim(
                address="0000:af:00.0",
                vendor_id="10de",
                product_id="1db4",
                dev_type=PciDeviceType.PCI,
                numa_node=0,
            ),
        ),
        numa_cells=(
            NumaCellClaim(
                guest_cell=0, host_cell=0, cpus=2, pinned_cpus=frozenset({0, 1}), memory_mb=1024
            ),
        ),
    )

    first = await apply(client, plan([(a, host_id, pinned)], {host_id: generation}))
    current, usage = await usage_of(client, host_id)
    again = await apply(client, plan([(b, host_id, pinned)], {host_id: current}))
    async with pool.acquire() as conn:
        released = await release(conn, a)
    after, freed = await usage_of(client, host_id)

    assert first.applied == (a,)
    assert usage.pci_devices == {"0000:af:00.0"}
    assert usage.numa_cells == (
        NumaCellUsage(cell_id=0, pinned_cpus=frozenset({0, 1}), memory_mb=1024),
    )
    (conflict,) = again.conflicts
    assert "pci: device 0000:af:00.0 is not free" in conflict.reason
    assert after == released[next(iter(released))] > current
    assert freed == HostUsage()


@pytest.mark.parametrize(
    ("host_ratio", "aggregate_ratio", "fits"),
    [(1.0, "4.0", True), (4.0, "1.0", False)],
)
async def test_claims_are_checked_against_the_aggregate_s_ratio(
    client: Client, pool: asyncpg.Pool, host_ratio: float, aggregate_ratio: str, fits: bool
) -> None:
    """The scheduler plans on the inventory its aggregates reshape; the apply re-checks
    on the same one (a higher ratio lets the plan in, a lower one keeps it out)."""
    name = f"cmp-{uuid4().hex[:8]}"
    two_cpus = HostInventory(vcpus=2, memory_mb=4096, disk_gb=40, cpu_allocation_ratio=host_ratio)
    registered = await register(client, name, two_cpus, zone())
    async with pool.acquire() as conn:
        made = await aggregates.create_aggregate(
            conn, f"agg-{uuid4().hex[:6]}", {"cpu_allocation_ratio": aggregate_ratio}
        )
        await aggregates.add_host(conn, made["id"], name)
    _, (a, b) = await new_instances(pool, 2)
    both = Claim(vcpus=2, memory_mb=512)  # 4 vCPUs of 2, each fitting on its own

    reply = await apply(
        client,
        plan(
            [(a, registered.host_id, both), (b, registered.host_id, both)],
            {registered.host_id: registered.generation},
        ),
    )

    assert (set(reply.applied) == {a, b}) is fits
    if not fits:
        assert "vcpus" in reply.conflicts[0].reason
