"""The compute handlers of resize, cold migration and rebuild on two hosts, on the fake
hypervisor and on libvirt's test driver (a simulated node per host). libvirt takes one
event loop implementation per process, so these tests share the session's loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio

from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.memory import InMemoryBus
from node_agent.drivers.errors import DriverError
from node_agent.drivers.hypervisor.base import HypervisorDriver
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from node_agent.drivers.hypervisor.libvirt import LibvirtHypervisor
from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from node_agent.fact_publisher import FactPublisher
from node_agent.seq import SeqClock
from node_agent.services.compute import ComputeContext
from node_agent.services.compute_moves import ComputeMoves
from schemas.claims import Claim
from schemas.compute import Flavor
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Rebuild
from schemas.messages.agent_devices import (
    ConfirmResize,
    FinishResize,
    FinishRevertResize,
    ResizeInstance,
    RevertResize,
)
from schemas.messages.facts import Fact, InstanceActionFailed, InstanceResized, InstanceSpawned
from tests.unit.node_agent.factories import FLAVOR, IMAGE, IMAGE_LOCATION, spawn

pytestmark = pytest.mark.asyncio(loop_scope="session")

BIG = Flavor(id=UUID(int=12), name="m1.small", vcpus=2, memory_mb=512, disk_gb=2)
CTX = RequestContext()


class Recorded(FactPublisher):
    """Keeps the facts instead of publishing them."""

    def __init__(self, host: str, state_dir: Path) -> None:
        super().__init__(Client(InMemoryBus()), host, SeqClock.in_dir(state_dir), "compute")
        self.seen: list[Fact] = []

    async def publish(self, fact: Fact) -> None:
        self.seen.append(fact)


class Host:
    def __init__(self, name: str, driver: HypervisorDriver, facts: Recorded) -> None:
        self.name, self.driver, self.facts = name, driver, facts
        self.moves = ComputeMoves(f"node_agent.{name}", ComputeContext(driver, facts, _sem()))

    def last(self) -> Any:
        return self.facts.seen[-1]

    async def domain(self, instance_id: UUID) -> Any:
        found = [d for d in await self.driver.list_domains() if d.instance_id == instance_id]
        return found[0] if found else None


def _sem() -> asyncio.Semaphore:
    return asyncio.Semaphore(2)


def _driver(kind: str, name: str, state_dir: Path) -> HypervisorDriver:
    if kind == "fake":
        return FakeHypervisor(name, state_dir, control_socket=False)
    return LibvirtHypervisor.simulated(name, state_dir, SimulatedNode(vcpus=8, memory_mb=4096))


@pytest_asyncio.fixture(params=["fake", "libvirt"], loop_scope="session")
async def hosts(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Host]]:
    made = []
    for name in ("src", "dst"):
        state_dir = tmp_path / name
        state_dir.mkdir()
        driver = _driver(request.param, name, state_dir)
        await driver.start(lambda event: None)
        made.append(Host(name, driver, Recorded(name, state_dir)))
    yield made
    for host in made:
        await host.driver.close()


def finish(instance_id: UUID, migration_id: UUID, *, power_on: bool = True) -> FinishResize:
    return FinishResize(
        instance_id=instance_id,
        migration_id=migration_id,
        source_host="src",
        name="vm1",
        new_flavor=BIG,
        claim=Claim(vcpus=2, memory_mb=512, disk_gb=2),
        image=IMAGE,
        image_location=IMAGE_LOCATION,
        power_on=power_on,
    )


async def moved(src: Host, dst: Host, *, power_on: bool = True) -> tuple[UUID, UUID]:
    """An instance spawned on src, resized to BIG on dst (not yet confirmed)."""
    vm, migration = uuid4(), uuid4()
    await src.driver.spawn(spawn(vm))
    resize = ResizeInstance(
        instance_id=vm, migration_id=migration, dest_host="dst", new_flavor=BIG, timeout_s=0
    )
    await src.moves.resize_instance(CTX, resize)
    fact = src.last()
    assert isinstance(fact, InstanceResized) and fact.step == "migrated"
    assert fact.power_state is PowerState.SHUTDOWN
    assert (await src.domain(vm)).power_state is PowerState.SHUTDOWN
    await dst.moves.finish_resize(CTX, finish(vm, migration, power_on=power_on))
    fact = dst.last()
    assert isinstance(fact, InstanceResized) and fact.step == "finished"
    assert (await dst.domain(vm)).vcpus == 2
    return vm, migration


async def test_resize_then_confirm_drops_the_source_copy(hosts: list[Host]) -> None:
    src, dst = hosts
    vm, migration = await moved(src, dst)
    assert dst.last().power_state is PowerState.RUNNING
    await src.moves.confirm_resize(CTX, ConfirmResize(instance_id=vm, migration_id=migration))
    assert src.last().step == "confirmed"
    assert await src.domain(vm) is None
    assert (await dst.domain(vm)).power_state is PowerState.RUNNING


async def test_revert_destroys_the_destination_and_restarts_the_source(hosts: list[Host]) -> None:
    src, dst = hosts
    vm, migration = await moved(src, dst)
    await dst.moves.revert_resize(CTX, RevertResize(instance_id=vm, migration_id=migration))
    assert dst.last().step == "reverted" and await dst.domain(vm) is None
    back = FinishRevertResize(instance_id=vm, migration_id=migration, old_flavor=FLAVOR)
    await src.moves.finish_revert_resize(CTX, back)
    fact = src.last()
    assert fact.step == "revert_finished" and fact.power_state is PowerState.RUNNING
    domain = await src.domain(vm)
    assert domain.power_state is PowerState.RUNNING and domain.vcpus == FLAVOR.vcpus


async def test_a_stopped_instance_finishes_stopped(hosts: list[Host]) -> None:
    src, dst = hosts
    vm, _ = await moved(src, dst, power_on=False)
    assert dst.last().power_state is PowerState.SHUTDOWN
    assert (await dst.domain(vm)).power_state is PowerState.SHUTDOWN


async def test_reverting_to_a_source_without_the_domain_fails(hosts: list[Host]) -> None:
    src, _ = hosts
    back = FinishRevertResize(instance_id=uuid4(), migration_id=uuid4(), old_flavor=FLAVOR)
    await src.moves.finish_revert_resize(CTX, back)
    fact = src.last()
    assert isinstance(fact, InstanceActionFailed) and fact.action == "finish_revert_resize"


async def test_rebuild_recreates_the_domain_and_reports_spawned(hosts: list[Host]) -> None:
    src, _ = hosts
    vm = uuid4()
    await src.driver.spawn(spawn(vm, name="old"))
    request = Rebuild.model_validate(
        spawn(vm, name="new").model_dump() | {"preserve_ephemeral": False}
    )
    await src.moves.rebuild(CTX, request)
    fact = src.last()
    assert isinstance(fact, InstanceSpawned) and fact.power_state is PowerState.RUNNING
    assert (await src.domain(vm)).power_state is PowerState.RUNNING


async def test_a_failing_finish_reports_action_failed(tmp_path: Path) -> None:
    driver = FakeHypervisor("dst", tmp_path, control_socket=False)
    await driver.start(lambda event: None)
    dst = Host("dst", driver, Recorded("dst", tmp_path))
    driver.faults.fail_next("spawn", DriverError("no space left"))
    await dst.moves.finish_resize(CTX, finish(uuid4(), uuid4()))
    fact = dst.last()
    assert isinstance(fact, InstanceActionFailed) and fact.action == "finish_resize"
    assert "no space left" in fact.reason
    await driver.close()
