"""A conductor in-process on real PostgreSQL, with stand-ins for the scheduler and the
agents on the in-memory bus, so each workflow is tested on its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from conductor.db.pool import open_pool
from conductor.db.queries import flavors, identity, images, instances, quotas
from conductor.db.queries import hosts as host_queries
from conductor.main import conductor_services
from corebus.client import Client
from corebus.config import load_settings
from corebus.envelope import Envelope, RequestContext
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner, rpc
from schemas.claims import Claim
from schemas.errors import NoValidHost
from schemas.instance_state import PowerState
from schemas.messages import agent_compute as agent
from schemas.messages import agent_devices as moves
from schemas.messages.facts import (
    Fact,
    InstanceDeleted,
    InstancePowerStateChanged,
    InstanceRebooted,
    InstanceResized,
    InstanceSpawned,
    InstanceSpawnFailed,
)
from schemas.messages.scheduler import (
    InstanceSelection,
    SelectDestinations,
    SelectDestinationsReply,
    Selection,
)
from tests.functional.conductor.standin_hotplug import DeviceStandIn


class StandInScheduler:
    """Places on the first host not ignored, round robin; no claims written."""

    name = "scheduler"

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts
        self.calls = 0

    @rpc
    async def select_destinations(
        self, ctx: RequestContext, req: SelectDestinations
    ) -> SelectDestinationsReply:
        usable = [h for h in self.hosts if h not in req.spec.ignore_hosts]
        if not usable:
            raise NoValidHost("ComputeFilter removed the last hosts (stand-in)")
        host = usable[self.calls % len(usable)]
        self.calls += 1
        res = req.spec.resources
        claim = Claim(vcpus=res.vcpus, memory_mb=res.memory_mb, disk_gb=res.disk_gb)
        selection = Selection(
            host_id=uuid.uuid4(), host=host, availability_zone="nova", claim=claim
        )
        return SelectDestinationsReply(
            plan_id=uuid.uuid4(),
            selections=tuple(
                InstanceSelection(instance_id=i, primary=selection) for i in req.spec.instance_ids
            ),
        )


class StandInAgent(DeviceStandIn):
    """Answers commands with the facts a real agent would publish (hot-plug handlers:
    standins_devices.DeviceStandIn)."""

    def __init__(self, host: str, bus: InMemoryBus) -> None:
        self.name = f"node_agent.{host}"
        self.host = host
        self.client = Client(bus)
        self.fail_spawn: str | None = None
        self.silent = False  # never answers, like a hung host
        self.spawned: list[uuid.UUID] = []
        self.stuck: set[str] = set()  # commands (method names) never answered
        self.commands: list[str] = []  # resize/migrate/rebuild commands received
        self.volume_connections: list[Any] = []
        self._seq = 0

    async def report(self, fact_type: type[Fact], instance_id: uuid.UUID, **fields: Any) -> None:
        self._seq += 1
        fact = fact_type(
            host=self.host,
            resource_id=instance_id,
            seq=self._seq,
            observed_at=datetime.now(UTC),
            **fields,
        )
        await self.client.publish("events", fact.routing_key(), fact)

    @rpc
    async def spawn(self, ctx: RequestContext, req: agent.Spawn) -> None:
        if self.silent:
            return
        if self.fail_spawn:
            await self.report(InstanceSpawnFailed, req.instance_id, reason=self.fail_spawn)
            return
        self.spawned.append(req.instance_id)
        await self.report(InstanceSpawned, req.instance_id)

    @rpc
    async def destroy(self, ctx: RequestContext, req: agent.Destroy) -> None:
        if not self.silent:
            await self.report(InstanceDeleted, req.instance_id)

    @rpc
    async def power_off(self, ctx: RequestContext, req: agent.PowerOff) -> None:
        await self.report(
            InstancePowerStateChanged, req.instance_id, power_state=PowerState.SHUTDOWN
        )

    @rpc
    async def power_on(self, ctx: RequestContext, req: agent.PowerOn) -> None:
        await self.report(
            InstancePowerStateChanged, req.instance_id, power_state=PowerState.RUNNING
        )

    @rpc
    async def reboot(self, ctx: RequestContext, req: agent.Reboot) -> None:
        await self.report(InstanceRebooted, req.instance_id, hard=req.hard)

    @rpc
    async def pause(self, ctx: RequestContext, req: agent.Pause) -> None:
        await self.report(InstancePowerStateChanged, req.instance_id, power_state=PowerState.PAUSED)

    @rpc
    async def unpause(self, ctx: RequestContext, req: agent.Unpause) -> None:
        await self.report(
            InstancePowerStateChanged, req.instance_id, power_state=PowerState.RUNNING
        )

    @rpc
    async def suspend(self, ctx: RequestContext, req: agent.Suspend) -> None:
        await self.report(
            InstancePowerStateChanged, req.instance_id, power_state=PowerState.SUSPENDED
        )

    @rpc
    async def resume(self, ctx: RequestContext, req: agent.Resume) -> None:
        await self.report(
            InstancePowerStateChanged, req.instance_id, power_state=PowerState.RUNNING
        )

    async def step(self, command: str, req: Any, step: str, power_state: PowerState) -> None:
        self.commands.append(command)
        if self.silent or command in self.stuck:
            return
        await self.report(
            InstanceResized,
            req.instance_id,
            migration_id=req.migration_id,
            step=step,
            power_state=power_state,
        )

    @rpc
    async def resize_instance(self, ctx: RequestContext, req: moves.ResizeInstance) -> None:
        await self.step("resize_instance", req, "migrated", PowerState.SHUTDOWN)

    @rpc
    async def finish_resize(self, ctx: RequestContext, req: moves.FinishResize) -> None:
        power = PowerState.RUNNING if req.power_on else PowerState.SHUTDOWN
        await self.step("finish_resize", req, "finished", power)

    @rpc
    async def confirm_resize(self, ctx: RequestContext, req: moves.ConfirmResize) -> None:
        await self.step("confirm_resize", req, "confirmed", PowerState.NOSTATE)

    @rpc
    async def revert_resize(self, ctx: RequestContext, req: moves.RevertResize) -> None:
        await self.step("revert_resize", req, "reverted", PowerState.NOSTATE)

    @rpc
    async def finish_revert_resize(
        self, ctx: RequestContext, req: moves.FinishRevertResize
    ) -> None:
        power = PowerState.RUNNING if req.power_on else PowerState.SHUTDOWN
        await self.step("finish_revert_resize", req, "revert_finished", power)

    @rpc
    async def rebuild(self, ctx: RequestContext, req: agent.Rebuild) -> None:
        self.commands.append("rebuild")
        if self.silent or "rebuild" in self.stuck:
            return
        await self.report(InstanceDeleted, req.instance_id)
        await self.report(InstanceSpawned, req.instance_id)


@dataclass
class Mesh:
    pool: Any
    bus: InMemoryBus
    client: Client
    ctx: RequestContext
    project_id: uuid.UUID
    flavor_id: uuid.UUID
    image_id: uuid.UUID
    scheduler: StandInScheduler
    agents: dict[str, StandInAgent]
    notifications: list[Envelope] = field(default_factory=list)

    async def instance(self, server_id: uuid.UUID) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            row = await instances.get_instance(conn, server_id, include_deleted=True)
        assert row is not None
        return row

    async def wait_for(
        self, server_id: uuid.UUID, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            row = await self.instance(server_id)
            if check(row):
                return row
            assert time.monotonic() < deadline, f"stuck at {row['vm_state']}/{row['task_state']}"
            await asyncio.sleep(0.02)

    async def quota_in_use(self, resource: str) -> int:
        async with self.pool.acquire() as conn:
            return (await quotas.usage(conn, self.project_id))[resource]["in_use"]

    def events(self, instance_id: uuid.UUID) -> list[str]:
        return [
            n.payload["event_type"]
            for n in self.notifications
            if n.payload["payload"]["uuid"] == str(instance_id)
        ]


@pytest.fixture(scope="module")
def workflow_dsn(pg_dsn: str) -> Any:
    from tests.conftest import run_sync

    dsn = f"{pg_dsn}_wf{uuid.uuid4().hex[:6]}"
    run_sync(create_database(dsn))
    run_sync(upgrade(dsn))
    yield dsn
    run_sync(drop_database(dsn))


@pytest.fixture
async def mesh(
    workflow_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Mesh]:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    settings = load_settings(
        None,
        database={"dsn": workflow_dsn},
        conductor={
            "spawn_timeout_s": 1.5,
            "schedule_timeout_s": 5,
            "sweep_interval_s": 0.2,
            "action_timeout_s": 5,
        },
    )
    bus = InMemoryBus()
    async with open_pool(settings.database) as pool:
        async with pool.acquire() as conn:
            project = await identity.create_project(conn, f"p-{uuid.uuid4().hex[:8]}")
            user = await identity.create_user(conn, f"u-{uuid.uuid4().hex[:8]}", "x")
            flavor = await flavors.create_flavor(
                conn, f"f-{uuid.uuid4().hex[:8]}", vcpus=1, memory_mb=512, disk_gb=1
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
            hosts = [f"h{n}-{uuid.uuid4().hex[:6]}" for n in (1, 2, 3)]
            for name in hosts:
                await host_queries.register_host(conn, name, ["compute"], incarnation=uuid.uuid4())
        scheduler = StandInScheduler(hosts)
        agents = {h: StandInAgent(h, bus) for h in scheduler.hosts}
        runner = ServiceRunner(
            bus, [*conductor_services(pool, bus, settings), scheduler, *agents.values()]
        )
        await runner.start()
        ctx = RequestContext(project_id=project["id"], user_id=user["id"], roles=("member",))
        mesh = Mesh(
            pool,
            bus,
            Client(bus, ctx),
            ctx,
            project["id"],
            flavor["id"],
            image["id"],
            scheduler,
            agents,
        )

        async def collect(topic: str, envelope: Envelope) -> None:
            mesh.notifications.append(envelope)

        sub = await bus.subscribe("notifications", ["instance.#"], collect)
        try:
            yield mesh
        finally:
            await sub.cancel()
            await runner.stop()
