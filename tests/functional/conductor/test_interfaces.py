"""Interfaces on real PostgreSQL with stand-in agents: attach allocates a unique MAC and
IP, detach and server deletion free them, the deadline settles a stuck attach."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from conductor.db.queries import networks, ports
from schemas.errors import Conflict
from schemas.messages.common import Accepted
from schemas.messages.conductor_servers import (
    AttachInterface,
    AttachInterfaceReply,
    DeleteServer,
    DetachInterface,
)
from tests.functional.conductor.conftest import Mesh
from tests.functional.conductor.standins_devices import (
    DeviceAgents,
    device_agents,
    eventually,
    server,
    usage,
)

pytestmark = pytest.mark.functional


@pytest.fixture
async def devices(mesh: Mesh) -> AsyncIterator[DeviceAgents]:
    async with device_agents(mesh) as agents:
        yield agents


async def network(mesh: Mesh, cidr: str = "10.20.0.0/24", gateway: str = "10.20.0.1") -> uuid.UUID:
    async with mesh.pool.acquire() as conn, conn.transaction():
        net = await networks.create_network(conn, mesh.project_id, f"n-{uuid.uuid4().hex[:6]}")
        await networks.create_subnet(conn, net["id"], mesh.project_id, cidr, gateway_ip=gateway)
    network_id: uuid.UUID = net["id"]
    return network_id


async def attach(mesh: Mesh, server_id: uuid.UUID, network_id: uuid.UUID) -> AttachInterfaceReply:
    request = AttachInterface(server_id=server_id, network_id=network_id)
    return await mesh.client.call("conductor.attach_interface", request, AttachInterfaceReply)


async def port_row(mesh: Mesh, port_id: uuid.UUID) -> dict[str, Any] | None:
    async with mesh.pool.acquire() as conn:
        return await ports.get_port(conn, port_id)


async def allocations(mesh: Mesh, network_id: uuid.UUID) -> int:
    async with mesh.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM ip_allocations WHERE network_id = $1", network_id
        )
    return count


async def test_attach_plugs_a_port_with_an_address(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    network_id = await network(mesh)
    reply = await attach(mesh, server_id, network_id)
    port = reply.port
    assert port.device_id == str(server_id) and port.mac_address.startswith("fa:16:3e:")
    assert [ip.ip_address for ip in port.fixed_ips] == ["10.20.0.2"]  # .0, .1 (gateway) skipped
    row = await eventually(lambda: port_row(mesh, port.id), lambda r: r["status"] == "ACTIVE")
    assert row["task_state"] is None
    host = (await mesh.instance(server_id))["host"]
    (ensured,) = devices.network.ensured
    assert ensured.requested_chassis == host and row["binding_host"] == host
    await asyncio.sleep(0.3)
    assert mesh.events(server_id)[-1] == "instance.interface_attach.end"
    assert (await usage(mesh))["ports"]["in_use"] == 1


async def test_concurrent_attaches_get_unique_addresses(mesh: Mesh, devices: DeviceAgents) -> None:
    servers = [await server(mesh, f"vm{i}") for i in range(3)]
    network_id = await network(mesh)
    replies = await asyncio.gather(*(attach(mesh, servers[i % 3], network_id) for i in range(24)))
    addresses = [r.port.fixed_ips[0].ip_address for r in replies]
    macs = [r.port.mac_address for r in replies]
    assert len(set(addresses)) == 24 and len(set(macs)) == 24
    assert await allocations(mesh, network_id) == 24


async def test_detach_frees_the_port_and_its_address(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    network_id = await network(mesh)
    port = (await attach(mesh, server_id, network_id)).port
    await eventually(lambda: port_row(mesh, port.id), lambda r: r["status"] == "ACTIVE")
    detach = DetachInterface(server_id=server_id, port_id=port.id)
    await mesh.client.call("conductor.detach_interface", detach, Accepted)
    await eventually(lambda: port_row(mesh, port.id), lambda r: r is None)
    assert await allocations(mesh, network_id) == 0
    assert (await usage(mesh))["ports"]["in_use"] == 0
    again = (await attach(mesh, server_id, network_id)).port
    assert again.fixed_ips[0].ip_address == "10.20.0.2"  # the freed address is reused
    await asyncio.sleep(0.3)
    assert "instance.interface_detach.end" in mesh.events(server_id)


async def test_deleting_a_server_frees_its_ports(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    network_id = await network(mesh)
    for _ in range(2):
        await attach(mesh, server_id, network_id)
    assert await allocations(mesh, network_id) == 2
    await mesh.client.call("conductor.delete_server", DeleteServer(server_id=server_id), Accepted)
    await mesh.wait_for(server_id, lambda r: r["deleted"])
    assert await allocations(mesh, network_id) == 0
    async with mesh.pool.acquire() as conn:
        assert await ports.ports_of_device(conn, str(server_id)) == []
    assert (await usage(mesh))["ports"]["in_use"] == 0


async def test_a_full_subnet_refuses_the_attach(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    network_id = await network(mesh, "10.30.0.0/29", "10.30.0.1")  # .2 to .6
    for _ in range(5):
        await attach(mesh, server_id, network_id)
    with pytest.raises(Conflict, match="no free IP"):
        await attach(mesh, server_id, network_id)
    assert (await usage(mesh))["ports"]["in_use"] == 5  # the refused one is not counted


async def test_a_stuck_attach_is_settled_by_its_deadline(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    network_id = await network(mesh)
    devices.network.silent = True
    port = (await attach(mesh, server_id, network_id)).port
    async with mesh.pool.acquire() as conn:  # as if action_timeout_s had passed
        await conn.execute(
            "UPDATE ports SET task_deadline = now() - interval '1 second' WHERE id = $1",
            port.id,
        )
    await eventually(lambda: port_row(mesh, port.id), lambda r: r is None)
    assert await allocations(mesh, network_id) == 0
    await asyncio.sleep(0.3)
    assert mesh.events(server_id)[-1] == "instance.interface_attach.error"
