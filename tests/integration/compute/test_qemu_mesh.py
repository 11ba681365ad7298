"""A real node agent (`--hypervisor qemu`) under the real conductor on PostgreSQL: a server
built through the conductor boots a TCG guest from the image's file, a domain destroyed
behind the agent's back is SHUTOFF in the database within a second (libvirt's lifecycle
event -> fact -> conductor), and an agent restart finds the domain again without losing or
duplicating anything.

The conductor, a stand-in scheduler (no placement) and the agent share one in-memory bus
in this process; the agent drives qemu:///system like `skymesh agent --hypervisor qemu`.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from conductor.db.pool import open_pool
from conductor.db.queries import flavors, identity, images, instances
from conductor.db.queries.instance_list import list_on_host
from conductor.main import conductor_services
from corebus.client import Client
from corebus.config import load_settings
from corebus.envelope import RequestContext
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner
from node_agent.agent import NodeAgent
from node_agent.config import AgentConfig
from node_agent.drivers.registry import DriverChoice
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import ConsoleOutput, GetConsoleOutput
from schemas.messages.common import Accepted
from schemas.messages.conductor_actions import ServerAction, Start
from schemas.messages.conductor_servers import CreateServer, CreateServerReply
from schemas.placement import HostRole
from tests.functional.conductor.conftest import StandInScheduler
from tests.integration.compute.agent_guests import (
    READY,
    marked_image,
    markers,
    remove_domains_of,
    values,
)
from tests.integration.compute.guest import GuestArtefacts

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@dataclass
class Cloud:
    pool: Any
    bus: InMemoryBus
    client: Client
    host: str
    state_dir: Path
    uri: str
    flavor_id: uuid.UUID
    image_id: uuid.UUID
    marker: str
    agent: NodeAgent | None = None
    runner: ServiceRunner | None = None

    async def start_agent(self) -> NodeAgent:
        config = AgentConfig(
            host=self.host,
            roles=frozenset({HostRole.COMPUTE}),
            state_dir=self.state_dir,
            drivers=DriverChoice(hypervisor="qemu"),
            libvirt_uri=self.uri,
            call_timeout_s=10,
        )
        self.agent = NodeAgent(config, self.bus)
        self.runner = ServiceRunner(self.bus, self.agent.services())
        await self.runner.start()
        await asyncio.wait_for(self.agent.registration.registered.wait(), 30)
        return self.agent

    async def stop_agent(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        self.agent = self.runner = None

    async def instance(self, server_id: uuid.UUID) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            row = await instances.get_instance(conn, server_id, include_deleted=True)
        assert row is not None
        return row

    async def wait_for(self, server_id: uuid.UUID, check: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            row = await self.instance(server_id)
            if check(row):
                return row
            assert time.monotonic() < deadline, f"at {row['vm_state']}/{row['task_state']}"
            await asyncio.sleep(0.02)

    async def console(self, server_id: uuid.UUID) -> list[str]:
        reply = await self.client.call(
            f"node_agent.{self.host}.get_console_output",
            GetConsoleOutput(instance_id=server_id),
            ConsoleOutput,
        )
        return markers(reply.output)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cloud(
    pg_dsn: str,
    libvirt_uri: str,
    guest_artefacts: GuestArtefacts,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch_module: pytest.MonkeyPatch,
) -> AsyncIterator[Cloud]:
    tmp = tmp_path_factory.mktemp("qemu-mesh")
    monkeypatch_module.setenv("SKYMESH_HOME", str(tmp))
    dsn = f"{pg_dsn}_qm{uuid.uuid4().hex[:6]}"
    await create_database(dsn)
    await upgrade(dsn)
    host = f"qm-{uuid.uuid4().hex[:6]}"
    marker = f"mesh-marker-{uuid.uuid4().hex}"
    image, path = marked_image(tmp, guest_artefacts, marker)
    settings = load_settings(
        None,
        database={"dsn": dsn},
        conductor={"spawn_timeout_s": 60, "schedule_timeout_s": 10, "action_timeout_s": 60},
    )
    bus = InMemoryBus(call_timeout=15)
    try:
        async with open_pool(settings.database) as pool:
            async with pool.acquire() as conn:
                project = await identity.create_project(conn, f"p-{uuid.uuid4().hex[:8]}")
                user = await identity.create_user(conn, f"u-{uuid.uuid4().hex[:8]}", "x")
                flavor = await flavors.create_flavor(
                    conn, f"f-{uuid.uuid4().hex[:8]}", vcpus=1, memory_mb=256, disk_gb=1
                )
                row = await images.create_image(
                    conn,
                    name="busybox-marked",
                    owner=None,
                    visibility="public",
                    disk_format="qcow2",
                    container_format="bare",
                    properties=image.properties,
                )
                await images.record_upload(
                    conn, row["id"], location=str(path), size=path.stat().st_size, checksum="0" * 32
                )
            runner = ServiceRunner(
                bus, [*conductor_services(pool, bus, settings), StandInScheduler([host])]
            )
            await runner.start()
            ctx = RequestContext(project_id=project["id"], user_id=user["id"], roles=("member",))
            made = Cloud(
                pool,
                bus,
                Client(bus, ctx),
                host,
                tmp / host,
                libvirt_uri,
                flavor["id"],
                row["id"],
                marker,
            )
            try:
                await made.start_agent()
                yield made
            finally:
                await made.stop_agent()
                await runner.stop()
                remove_domains_of(libvirt_uri, {host})
    finally:
        await drop_database(dsn)
    assert remove_domains_of(libvirt_uri, {host}) == []


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


SERVER: dict[str, uuid.UUID] = {}


async def test_a_server_built_by_the_conductor_boots_its_image(cloud: Cloud) -> None:
    request = CreateServer(
        name="mesh-vm", flavor_id=cloud.flavor_id, image_id=cloud.image_id, networks="none"
    )
    reply = await cloud.client.call("conductor.create_server", request, CreateServerReply)
    server = SERVER["id"] = reply.server_ids[0]
    row = await cloud.wait_for(server, lambda r: r["vm_state"] == "active", timeout=90)
    assert row["host"] == cloud.host
    assert row["power_state"] == int(PowerState.RUNNING)
    deadline = time.monotonic() + 120
    while READY not in (found := await cloud.console(server)):
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.5)
    assert values(found, "SKYMESH-DISK-MARKER") == [f"root {cloud.marker}"]


async def test_a_domain_destroyed_behind_the_agents_back_is_shutoff_in_the_database(
    cloud: Cloud,
) -> None:
    server = SERVER["id"]
    await asyncio.to_thread(
        subprocess.run,
        ["virsh", "-q", "-c", cloud.uri, "destroy", f"instance-{server}"],
        capture_output=True,
        check=True,
    )
    destroyed = time.monotonic()
    row = await cloud.wait_for(
        server, lambda r: r["power_state"] == int(PowerState.SHUTDOWN), timeout=1.0
    )
    print(f"SHUTOFF in the database {time.monotonic() - destroyed:.3f} s after virsh destroy")
    assert row["vm_state"] == "stopped"


async def test_an_agent_restart_finds_the_domain_and_duplicates_nothing(cloud: Cloud) -> None:
    server = SERVER["id"]
    before = await cloud.instance(server)
    await cloud.stop_agent()
    agent = await cloud.start_agent()
    domains = await agent.drivers.hypervisor.list_domains()  # type: ignore[union-attr]
    assert [d.instance_id for d in domains] == [server]
    assert domains[0].power_state is PowerState.SHUTDOWN
    await asyncio.sleep(1)  # the snapshot after registration is reconciled
    async with cloud.pool.acquire() as conn:
        on_host = [r["id"] for r in await list_on_host(conn, cloud.host)]
        total = await conn.fetchval("SELECT count(*) FROM instances")
    assert on_host == [server]
    assert total == 1
    after = await cloud.instance(server)
    assert (after["vm_state"], after["power_state"], after["task_state"]) == (
        before["vm_state"],
        before["power_state"],
        None,
    )
    # and the restarted agent still drives it: start through the API
    await cloud.client.call(
        "conductor.server_action", ServerAction(server_id=server, action=Start()), Accepted
    )
    row = await cloud.wait_for(server, lambda r: r["vm_state"] == "active", timeout=60)
    assert row["power_state"] == int(PowerState.RUNNING)
