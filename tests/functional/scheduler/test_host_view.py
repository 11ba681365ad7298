"""Hosts registered with an inventory show up in `conductor.host_view` as they were
reported: amounts with reserved and ratios, NUMA cells, PCI devices, traits."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from conductor.db.queries import hosts as host_queries
from corebus.client import Client
from schemas.messages.conductor_hosts import HostView, HostViewReply
from schemas.numa import NumaCell
from schemas.pci import PciDevice, PciDeviceType
from schemas.placement import HostInventory, HostUsage
from tests.functional.scheduler.mesh import register, zone

pytestmark = pytest.mark.functional

FULL = HostInventory(
    vcpus=16,
    memory_mb=65536,
    disk_gb=500,
    cpu_allocation_ratio=8.0,
    ram_allocation_ratio=1.5,
    disk_allocation_ratio=1.0,
    reserved_vcpus=2,
    reserved_memory_mb=2048,
    reserved_disk_gb=20,
    numa_cells=(
        NumaCell(id=0, socket=0, cpus=frozenset({2, 3, 4, 5}), memory_mb=32768),
        NumaCell(id=1, socket=1, cpus=frozenset({10, 11, 12, 13}), memory_mb=32768),
    ),
    pci_devices=(
        PciDevice(
            address="0000:3b:00.0",
            vendor_id="8086",
            product_id="1572",
            dev_type=PciDeviceType.PF,
            physical_network="physnet1",
            numa_node=0,
        ),
        PciDevice(
            address="0000:3b:02.0",
            vendor_id="8086",
            product_id="154c",
            dev_type=PciDeviceType.VF,
            parent_addr="0000:3b:00.0",
            physical_network="physnet1",
            numa_node=0,
        ),
        PciDevice(address="0000:af:00.0", vendor_id="10de", product_id="1db4", numa_node=1),
    ),
    traits=frozenset({"HW_CPU_X86_AVX2", "CUSTOM_GPU"}),
    hypervisor_type="QEMU",
    cpu_model="Icelake-Server",
)


async def view(client: Client, **fields: object) -> HostViewReply:
    return await client.call("conductor.host_view", HostView(**fields), HostViewReply)


async def test_a_registered_host_shows_its_inventory(client: Client) -> None:
    az, name = zone(), f"cmp-{uuid4().hex[:8]}"
    registered = await register(client, name, FULL, az)

    reply = await view(client, host_ids=(registered.host_id,))

    (snapshot,) = reply.hosts
    assert snapshot.host.name == name
    assert snapshot.host.availability_zone == az
    assert snapshot.host.generation == registered.generation
    assert snapshot.host.inventory == FULL
    assert snapshot.usage == HostUsage()


async def test_registering_again_replaces_the_inventory_and_bumps_the_generation(
    client: Client,
) -> None:
    az, name = zone(), f"cmp-{uuid4().hex[:8]}"
    first = await register(client, name, FULL, az)
    smaller = FULL.model_copy(update={"memory_mb": 32768, "pci_devices": FULL.pci_devices[2:]})

    second = await register(client, name, smaller, az)

    assert second.host_id == first.host_id
    assert second.generation > first.generation
    (snapshot,) = (await view(client, host_ids=(first.host_id,))).hosts
    assert snapshot.host.inventory == smaller
    assert snapshot.host.generation == second.generation


async def test_disabled_hosts_only_when_asked(client: Client, pool: asyncpg.Pool) -> None:
    name = f"cmp-{uuid4().hex[:8]}"
    registered = await register(client, name, FULL, zone())
    async with pool.acquire() as conn:
        await host_queries.set_enabled(conn, name, False, reason="maintenance")

    hidden = await view(client, host_ids=(registered.host_id,))
    shown = await view(client, host_ids=(registered.host_id,), include_disabled=True)

    assert hidden.hosts == ()
    assert [s.host.disabled for s in shown.hosts] == [True]
