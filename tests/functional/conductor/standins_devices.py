"""Stand-ins for the storage and network roles as services of their own
(`node_agent.storage`, `node_agent.network`), started next to a mesh; the compute
stand-in's hot-plug handlers are in standin_hotplug.py."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conductor.db.queries import quotas
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import ServiceRunner, rpc
from schemas.messages import agent_network, agent_storage
from schemas.messages.conductor_servers import CreateServer, CreateServerReply
from schemas.messages.facts import (
    Fact,
    PortActive,
    PortDown,
    VolumeCreated,
    VolumeDeleted,
    VolumeFailed,
)
from tests.functional.conductor.conftest import Mesh


class _Reporter:
    def __init__(self, client: Client, host: str) -> None:
        self.client, self.host = client, host
        self.silent = False
        self._seq = 0

    async def report(self, fact_type: type[Fact], resource_id: uuid.UUID, **fields: Any) -> None:
        self._seq += 1
        fact = fact_type(
            host=self.host,
            resource_id=resource_id,
            seq=self._seq,
            observed_at=datetime.now(UTC),
            **fields,
        )
        await self.client.publish("events", fact.routing_key(), fact)


class StandInStorage(_Reporter):
    """Any storage agent: creates and deletes RBD images at once."""

    name = "node_agent.storage"

    def __init__(self, client: Client, host: str) -> None:
        super().__init__(client, host)
        self.fail_create: str | None = None
        self.created: list[agent_storage.CreateVolume] = []

    @rpc
    async def create_volume(self, ctx: RequestContext, req: agent_storage.CreateVolume) -> None:
        if self.silent:
            return
        if self.fail_create:
            await self.report(
                VolumeFailed, req.volume_id, operation="create", reason=self.fail_create
            )
            return
        self.created.append(req)
        await self.report(VolumeCreated, req.volume_id, size_gb=req.size_gb)

    @rpc
    async def delete_volume(self, ctx: RequestContext, req: agent_storage.DeleteVolume) -> None:
        if not self.silent:
            await self.report(VolumeDeleted, req.volume_id)


class StandInNetwork(_Reporter):
    """Any network agent: a port is up on its requested chassis as soon as ensured."""

    name = "node_agent.network"

    def __init__(self, client: Client, host: str) -> None:
        super().__init__(client, host)
        self.ensured: list[agent_network.EnsurePort] = []
        self.deleted: list[uuid.UUID] = []

    @rpc
    async def ensure_port(self, ctx: RequestContext, req: agent_network.EnsurePort) -> None:
        if self.silent:
            return
        self.ensured.append(req)
        await self.report(PortActive, req.port.id, chassis=req.requested_chassis)

    @rpc
    async def delete_port(self, ctx: RequestContext, req: agent_network.DeletePort) -> None:
        if self.silent:
            return
        self.deleted.append(req.port_id)
        await self.report(PortDown, req.port_id)


@dataclass
class DeviceAgents:
    storage: StandInStorage
    network: StandInNetwork


@asynccontextmanager
async def device_agents(mesh: Mesh) -> AsyncIterator[DeviceAgents]:
    """The storage and network stand-ins, serving on the mesh's bus until exit."""
    agents = DeviceAgents(
        StandInStorage(Client(mesh.bus), "storage-1"), StandInNetwork(Client(mesh.bus), "net-1")
    )
    runner = ServiceRunner(mesh.bus, [agents.storage, agents.network])
    await runner.start()
    try:
        yield agents
    finally:
        await runner.stop()


async def eventually(
    read: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 10.0
) -> Any:
    """Poll `read()` (a coroutine function) until `check` holds for its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if check(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        await asyncio.sleep(0.02)


async def server(mesh: Mesh, name: str = "vm") -> uuid.UUID:
    request = CreateServer(
        name=name, flavor_id=mesh.flavor_id, image_id=mesh.image_id, networks="none"
    )
    reply = await mesh.client.call("conductor.create_server", request, CreateServerReply)
    server_id = reply.server_ids[0]
    await mesh.wait_for(server_id, lambda r: r["vm_state"] == "active" and not r["task_state"])
    return server_id


async def usage(mesh: Mesh) -> dict[str, Any]:
    async with mesh.pool.acquire() as conn:
        return await quotas.usage(conn, mesh.project_id)
