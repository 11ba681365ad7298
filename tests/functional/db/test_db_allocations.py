"""Claims with provider generations, release, inventories and the scheduler's host view."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import db_factories as make
import pytest

from conductor.db.queries import allocations, host_view, hosts, instances, providers
from conductor.db.queries.allocations import AllocationRequest
from conductor.db.queries.providers import GenerationConflict, Inventory, InventoryInUse

pytestmark = pytest.mark.functional


def small(provider_id: UUID) -> list[AllocationRequest]:
    return [
        AllocationRequest(provider_id, "VCPU", 2),
        AllocationRequest(provider_id, "MEMORY_MB", 2048),
        AllocationRequest(provider_id, "DISK_GB", 10),
    ]


async def test_claim_writes_allocations_and_bumps_generation(
    conn: asyncpg.Connection,
) -> None:
    host = await make.host(conn)
    rp, gen = host["root_provider_id"], host["generation"]
    vm = await make.instance(conn, await make.project(conn))

    new = await allocations.claim(conn, vm["id"], small(rp), {rp: gen})

    assert new == {rp: gen + 1}
    held = {
        a["resource_class"]: a["amount"] for a in await allocations.for_consumer(conn, vm["id"])
    }
    assert held == {"VCPU": 2, "MEMORY_MB": 2048, "DISK_GB": 10}
    assert (await providers.get_provider(conn, rp) or {})["generation"] == gen + 1


async def test_generation_check_refuses_a_stale_claim(conn: asyncpg.Connection) -> None:
    host = await make.host(conn)
    rp, seen = host["root_provider_id"], host["generation"]
    project = await make.project(conn)
    first, second = await make.instance(conn, project), await make.instance(conn, project)
    await allocations.claim(conn, first["id"], small(rp), {rp: seen})

    with pytest.raises(GenerationConflict) as caught:
        await allocations.claim(conn, second["id"], small(rp), {rp: seen})

    assert (caught.value.expected, caught.value.current) == (seen, seen + 1)
    assert await allocations.for_consumer(conn, second["id"]) == []
    usage = await allocations.usage_by_provider(conn, [rp])
    assert usage[rp] == {"VCPU": 2, "MEMORY_MB": 2048, "DISK_GB": 10}


async def test_concurrent_claims_on_one_generation_let_exactly_one_through(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        host = await make.host(conn)
        project = await make.project(conn)
        vms = [await make.instance(conn, project) for _ in range(8)]
    rp, seen = host["root_provider_id"], host["generation"]

    async def attempt(vm: dict[str, Any]) -> bool:
        async with pool.acquire() as conn:
            try:
                await allocations.claim(conn, vm["id"], small(rp), {rp: seen})
            except GenerationConflict:
                return False
            return True

    results = await asyncio.gather(*(attempt(vm) for vm in vms))

    assert results.count(True) == 1
    async with pool.acquire() as conn:
        usage = await allocations.usage_by_provider(conn, [rp])
    assert usage[rp]["VCPU"] == 2


async def test_claim_needs_a_generation_for_every_provider(conn: asyncpg.Connection) -> None:
    host = await make.host(conn)
    vm = await make.instance(conn, await make.project(conn))
    with pytest.raises(ValueError, match="no expected generation"):
        await allocations.claim(conn, vm["id"], small(host["root_provider_id"]), {})


async def test_release_deletes_allocations_and_bumps_generation(
    conn: asyncpg.Connection,
) -> None:
    host = await make.host(conn)
    rp = host["root_provider_id"]
    vm = await make.instance(conn, await make.project(conn))
    after_claim = await allocations.claim(conn, vm["id"], small(rp), {rp: host["generation"]})

    assert await allocations.release(conn, vm["id"]) == {rp: after_claim[rp] + 1}
    assert await allocations.for_consumer(conn, vm["id"]) == []
    assert await allocations.release(conn, vm["id"]) == {}


async def test_nested_vf_provider_claim(conn: asyncpg.Connection) -> None:
    host = await make.host(conn)
    root = host["root_provider_id"]
    pf = await providers.ensure_child_provider(
        conn,
        host_id=host["id"],
        parent_id=root,
        name=f"{host['name']}:0000:81:00.0",
        kind="pf",
    )
    pf_gen = await providers.set_inventories(
        conn,
        pf["id"],
        {"SRIOV_NET_VF": Inventory(total=4)},
        expected_generation=pf["generation"],
    )
    vm = await make.instance(conn, await make.project(conn))

    await allocations.claim(
        conn,
        vm["id"],
        [*small(root), AllocationRequest(pf["id"], "SRIOV_NET_VF", 1)],
        {root: host["generation"], pf["id"]: pf_gen},
    )

    usage = await allocations.usage_by_provider(conn, [root, pf["id"]])
    assert usage[pf["id"]] == {"SRIOV_NET_VF": 1}
    tree = await providers.list_providers(conn, host["id"])
    assert [p["kind"] for p in tree] == ["compute", "pf"]


async def test_set_inventories_checks_generation_and_use(conn: asyncpg.Connection) -> None:
    host = await make.host(conn)
    rp, gen = host["root_provider_id"], host["generation"]
    vm = await make.instance(conn, await make.project(conn))
    gen = (await allocations.claim(conn, vm["id"], small(rp), {rp: gen}))[rp]

    with pytest.raises(GenerationConflict):
        await providers.set_inventories(
            conn, rp, {"VCPU": Inventory(total=1)}, expected_generation=gen - 1
        )
    with pytest.raises(InventoryInUse, match="DISK_GB, MEMORY_MB"):
        await providers.set_inventories(
            conn, rp, {"VCPU": Inventory(total=16)}, expected_generation=gen
        )
    new_gen = await providers.set_inventories(
        conn,
        rp,
        {
            "VCPU": Inventory(total=16),
            "MEMORY_MB": Inventory(total=32768),
            "DISK_GB": Inventory(total=200),
        },
        expected_generation=gen,
    )
    assert new_gen == gen + 1
    inv = (await providers.inventories_with_usage(conn, [rp]))[rp]
    assert inv["VCPU"].total == 16 and inv["VCPU"].used == 2
    assert inv["VCPU"].max_unit == 16  # defaults to the total


async def test_host_view_lists_up_hosts_with_inventory_and_usage(
    conn: asyncpg.Connection,
) -> None:
    up = await make.host(conn, vcpus=4)
    disabled = await make.host(conn)
    forced = await make.host(conn)
    stale = await make.host(conn)
    await hosts.set_enabled(conn, disabled["name"], False, reason="maintenance")
    await hosts.set_forced_down(conn, forced["name"], True)
    await conn.execute(
        "UPDATE hosts SET last_heartbeat_at = now() - interval '10 minutes' WHERE id = $1",
        stale["id"],
    )
    await hosts.set_traits(conn, up["id"], ["HW_CPU_X86_AVX2", "COMPUTE_STATUS_OK"])
    vm = await make.instance(conn, await make.project(conn))
    rp = up["root_provider_id"]
    gen = (await allocations.claim(conn, vm["id"], small(rp), {rp: up["generation"]}))[rp]
    await instances.update_state(conn, vm["id"], host=up["name"], node=up["name"])
    names = [up["name"], disabled["name"], forced["name"], stale["name"]]

    view = await host_view.up_hosts(conn, names=names)

    assert [h.name for h in view] == [up["name"]]
    [h] = view
    assert h.root is not None and h.root.generation == gen
    assert h.root.inventories["VCPU"].total == 4
    assert h.root.inventories["VCPU"].allocation_ratio == 4.0
    assert h.root.inventories["VCPU"].used == 2
    assert h.root.inventories["MEMORY_MB"].reserved == 512
    assert h.traits == {"HW_CPU_X86_AVX2", "COMPUTE_STATUS_OK"}
    assert h.num_instances == 1
    with_disabled = await host_view.up_hosts(conn, names=names, include_disabled=True)
    assert {x.name for x in with_disabled} == {up["name"], disabled["name"]}


async def test_host_view_shows_az_from_aggregate_pci_pools_and_numa(
    conn: asyncpg.Connection,
) -> None:
    from conductor.db.queries import aggregates

    host = await make.host(conn)
    agg = await aggregates.create_aggregate(
        conn, make.unique("agg"), {"availability_zone": "az-east", "ssd": "true"}
    )
    assert await aggregates.add_host(conn, agg["id"], host["name"])
    await conn.execute(
        "INSERT INTO pci_devices (host_id, address, vendor_id, product_id, dev_type, "
        "parent_addr, physical_network, numa_node, status) VALUES "
        "($1, '0000:81:00.0', '8086', '1528', 'type-PF', NULL, 'physnet1', 0, 'available'),"
        "($1, '0000:81:10.0', '8086', '1515', 'type-VF', '0000:81:00.0', 'physnet1', 0, "
        " 'available'),"
        "($1, '0000:81:10.2', '8086', '1515', 'type-VF', '0000:81:00.0', 'physnet1', 0, "
        " 'unavailable')",
        host["id"],
    )
    await conn.execute(
        "INSERT INTO numa_cells (host_id, cell_id, cpuset, pcpuset, memory_mb) "
        "VALUES ($1, 0, '{0,1}', '{2,3}', 8192)",
        host["id"],
    )
    vm = await make.instance(conn, await make.project(conn))
    await conn.execute(
        "INSERT INTO numa_pinned_cpus (host_id, cell_id, cpu, instance_id) VALUES ($1, 0, 3, $2)",
        host["id"],
        vm["id"],
    )

    [h] = await host_view.up_hosts(conn, names=[host["name"]])

    assert h.availability_zone == "az-east"
    assert h.aggregates[agg["name"]] == {"availability_zone": "az-east", "ssd": "true"}
    vfs = [p for p in h.pci_pools if p.dev_type == "type-VF"]
    assert [(p.total, p.free, p.physical_network) for p in vfs] == [(2, 1, "physnet1")]
    [cell] = h.numa_cells
    assert (cell.pcpuset, cell.pinned, cell.memory_mb) == ((2, 3), (3,), 8192)
