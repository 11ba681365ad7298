"""A conductor with the real scheduler (claims written by apply_plan) and stand-in
agents, for the workflows whose outcome is in the allocations (resize, migrate).

Each test registers its own hosts in its own availability zone, so hosts left by
earlier tests of the module (the database is shared) are never chosen."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conductor.db.pool import open_pool
from conductor.db.queries import flavors, identity, images
from conductor.main import conductor_services
from corebus.client import Client
from corebus.config import load_settings
from corebus.envelope import Envelope, RequestContext
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner
from scheduler.conductor_api import BusConductor
from scheduler.service import Scheduler
from schemas.messages.common import Accepted
from schemas.messages.conductor_actions import Action, ServerAction
from schemas.messages.conductor_hosts import RegisterHost, RegisterHostReply
from schemas.messages.conductor_servers import CreateServer, CreateServerReply
from schemas.placement import HostInventory, HostRole
from tests.functional.conductor.conftest import Mesh, StandInAgent

INVENTORY = HostInventory(vcpus=4, memory_mb=4096, disk_gb=40)


@dataclass
class Placed:
    mesh: Mesh
    zone: str
    hosts: list[str]
    small: uuid.UUID  # the mesh's flavor: 1 vcpu, 512 MB, 1 GB
    big: uuid.UUID  # 2 vcpus, 1024 MB, 2 GB

    async def create(self, name: str = "vm") -> uuid.UUID:
        request = CreateServer(
            name=name,
            flavor_id=self.mesh.flavor_id,
            image_id=self.mesh.image_id,
            networks="none",
            availability_zone=self.zone,
        )  # type: ignore[call-arg]
        reply = await self.mesh.client.call("conductor.create_server", request, CreateServerReply)
        return reply.server_ids[0]

    async def act(self, server: uuid.UUID, action: Action) -> None:
        request = ServerAction(server_id=server, action=action)
        await self.mesh.client.call("conductor.server_action", request, Accepted)

    async def held(self, consumer: uuid.UUID) -> dict[str, dict[str, int]]:
        """{host: {resource class: amount}} that `consumer` holds."""
        async with self.mesh.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT h.name, a.resource_class, a.amount FROM allocations a "
                "JOIN resource_providers rp ON rp.id = a.provider_id "
                "JOIN hosts h ON h.id = rp.host_id WHERE a.consumer_id = $1",
                consumer,
            )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["name"], {})[row["resource_class"]] = row["amount"]
        return found

    async def migration(self, server: uuid.UUID) -> dict[str, Any]:
        async with self.mesh.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM migrations WHERE instance_id = $1 ORDER BY created_at DESC LIMIT 1",
                server,
            )
        assert row is not None
        return dict(row)


@pytest.fixture
async def placed(
    workflow_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Placed]:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    settings = load_settings(
        None,
        database={"dsn": workflow_dsn},
        conductor={
            "spawn_timeout_s": 3,
            "schedule_timeout_s": 5,
            "sweep_interval_s": 0.2,
            "action_timeout_s": 1.5,
        },
    )
    bus = InMemoryBus()
    zone = f"az-{uuid.uuid4().hex[:8]}"
    hosts = [f"m{n}-{uuid.uuid4().hex[:6]}" for n in (1, 2, 3)]
    async with open_pool(settings.database) as pool:
        async with pool.acquire() as conn:
            project = await identity.create_project(conn, f"p-{uuid.uuid4().hex[:8]}")
            user = await identity.create_user(conn, f"u-{uuid.uuid4().hex[:8]}", "x")
            small = await flavors.create_flavor(
                conn, f"s-{uuid.uuid4().hex[:8]}", vcpus=1, memory_mb=512, disk_gb=1
            )
            big = await flavors.create_flavor(
                conn, f"b-{uuid.uuid4().hex[:8]}", vcpus=2, memory_mb=1024, disk_gb=2
            )
            image = await images.create_image(
                conn,
                name="busybox",
                owner=None,
                visibility="public",
                disk_format="qcow2",
                container_format="bare",
            )
            await images.record_upload(
                conn, image["id"], location="/images/busybox.qcow2", size=1024, checksum="0" * 32
            )
        scheduler = Scheduler(BusConductor(Client(bus), timeout=5))
        agents = {h: StandInAgent(h, bus) for h in hosts}
        runner = ServiceRunner(
            bus, [*conductor_services(pool, bus, settings), scheduler, *agents.values()]
        )
        await runner.start()
        for name in hosts:
            await Client(bus).call(
                "conductor.register_host",
                RegisterHost(
                    name=name,
                    incarnation=uuid.uuid4(),
                    roles=frozenset({HostRole.COMPUTE}),
                    availability_zone=zone,
                    inventory=INVENTORY,
                    agent_version="test",
                    started_at=datetime.now(UTC),
                ),
                RegisterHostReply,
            )
        ctx = RequestContext(project_id=project["id"], user_id=user["id"], roles=("member",))
        mesh = Mesh(
            pool,
            bus,
            Client(bus, ctx),
            ctx,
            project["id"],
            small["id"],
            image["id"],
            scheduler,  # type: ignore[arg-type]
            agents,
        )

        async def collect(topic: str, envelope: Envelope) -> None:
            mesh.notifications.append(envelope)

        sub = await bus.subscribe("notifications", ["instance.#"], collect)
        try:
            yield Placed(mesh, zone, hosts, small["id"], big["id"])
        finally:
            await sub.cancel()
            await runner.stop()
