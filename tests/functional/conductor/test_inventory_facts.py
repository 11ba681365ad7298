"""`fact.inventory` between registrations: a VF that appears on a running host reaches
the database at once; a stale inventory fact and one for an unknown host are dropped."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from schemas.messages.host_facts import InventoryReported
from schemas.pci import PciDevice
from schemas.placement import HostInventory
from tests.functional.conductor.conftest import Mesh

PF = PciDevice(address="0000:81:00.0", vendor_id="8086", product_id="10fb", dev_type="type-PF")


def _vf(n: int) -> PciDevice:
    return PciDevice(
        address=f"0000:81:10.{n}",
        vendor_id="8086",
        product_id="10ed",
        dev_type="type-VF",
        parent_addr=PF.address,
    )


def _inventory(*devices: PciDevice) -> HostInventory:
    return HostInventory(vcpus=8, memory_mb=16384, disk_gb=100, pci_devices=(PF, *devices))


async def _report(mesh: Mesh, host: str, host_id: uuid.UUID, seq: int, inv: HostInventory) -> None:
    fact = InventoryReported(
        host=host, resource_id=host_id, seq=seq, observed_at=datetime.now(UTC), inventory=inv
    )
    await mesh.client.publish("events", fact.routing_key(), fact)


async def _devices(mesh: Mesh, host: str) -> dict[str, str]:
    async with mesh.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT d.address, d.status FROM pci_devices d JOIN hosts h ON h.id = d.host_id "
            "WHERE h.name = $1",
            host,
        )
    return {r["address"]: r["status"] for r in rows}


async def _settle(mesh: Mesh, host: str, want: dict[str, str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for _ in range(100):
        seen = await _devices(mesh, host)
        if seen == want:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_a_vf_that_appears_and_vanishes_follows_into_the_database(mesh: Mesh) -> None:
    host = mesh.scheduler.hosts[0]
    async with mesh.pool.acquire() as conn:
        host_id = await conn.fetchval("SELECT id FROM hosts WHERE name = $1", host)

    await _report(mesh, host, host_id, 1, _inventory(_vf(0)))
    seen = await _settle(mesh, host, {PF.address: "available", _vf(0).address: "available"})
    assert seen == {PF.address: "available", _vf(0).address: "available"}

    await _report(mesh, host, host_id, 2, _inventory(_vf(0), _vf(1)))
    assert _vf(1).address in await _settle(
        mesh,
        host,
        {PF.address: "available", _vf(0).address: "available", _vf(1).address: "available"},
    )

    # a stale fact (seq 1 again) must not bring back the old view; seq 3 drops VF 1
    await _report(mesh, host, host_id, 1, _inventory(_vf(0)))
    await _report(mesh, host, host_id, 3, _inventory(_vf(0)))
    seen = await _settle(
        mesh,
        host,
        {PF.address: "available", _vf(0).address: "available", _vf(1).address: "removed"},
    )
    assert seen[_vf(1).address] == "removed"


async def test_an_inventory_for_another_hosts_id_is_dropped(mesh: Mesh) -> None:
    host = mesh.scheduler.hosts[1]
    await _report(mesh, host, uuid.uuid4(), 1, _inventory(_vf(0)))
    await _report(mesh, "no-such-host", uuid.uuid4(), 1, _inventory(_vf(0)))
    await asyncio.sleep(0.3)
    assert await _devices(mesh, host) == {}
