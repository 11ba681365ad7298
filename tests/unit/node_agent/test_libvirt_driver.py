"""The libvirt driver on libvirt's test driver (no daemon): domain lifecycle, events
through libvirtaio, ownership on a shared libvirt, a simulated node kept across restarts.

libvirt takes one event loop implementation per process, so these tests share the
session's event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest

from node_agent.drivers.errors import DriverError, NotFoundError
from node_agent.drivers.hypervisor.base import DomainEvent, LifecycleEvent, PowerAction
from node_agent.drivers.hypervisor.libvirt import LibvirtHypervisor
from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from schemas.instance_state import PowerState
from tests.unit.node_agent.factories import port, spawn, volume

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Recorder:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def __call__(self, event: DomainEvent) -> None:
        self.events.append(event)

    async def wait_for(
        self, check: Callable[[list[DomainEvent]], bool], timeout: float = 2
    ) -> None:
        deadline = time.monotonic() + timeout
        while not (self.events and check(self.events)):
            assert time.monotonic() < deadline, f"events so far: {self.events}"
            await asyncio.sleep(0.01)

    def of(self, instance_id: object) -> list[tuple[LifecycleEvent, PowerState | None]]:
        return [(e.event, e.power_state) for e in self.events if e.instance_id == instance_id]


async def simulated(state_dir: Path, host: str = "cmp1") -> tuple[LibvirtHypervisor, Recorder]:
    driver = LibvirtHypervisor.simulated(host, state_dir, SimulatedNode(vcpus=4, memory_mb=2048))
    events = Recorder()
    await driver.start(events)
    return driver, events


async def test_inventory_describes_the_simulated_node(tmp_path: Path) -> None:
    driver, _ = await simulated(tmp_path)
    inventory = await driver.inventory()
    assert (inventory.vcpus, inventory.memory_mb, inventory.disk_gb) == (4, 2048, 200)
    assert inventory.hypervisor_type == "TEST"
    await driver.close()


async def test_spawn_and_destroy_emit_lifecycle_events(tmp_path: Path) -> None:
    driver, events = await simulated(tmp_path)
    request = spawn(ports=(port(),), volumes=(volume(),))
    info = await driver.spawn(request)
    assert info.power_state is PowerState.RUNNING
    assert (info.vcpus, info.memory_mb) == (1, 256)
    assert info.port_ids == (request.ports[0].id,)
    assert [v.volume_id for v in info.volumes] == [request.volumes[0].volume_id]
    assert await driver.spawn(request) == info  # idempotent
    await events.wait_for(lambda e: len(e) >= 2)
    assert events.of(request.instance_id) == [
        (LifecycleEvent.DEFINED, PowerState.RUNNING),  # state read when handled
        (LifecycleEvent.STARTED, PowerState.RUNNING),
    ]
    assert events.events[0].detail == "added"
    assert await driver.destroy(request.instance_id) is True
    assert await driver.destroy(request.instance_id) is False
    await events.wait_for(lambda e: e[-1].event is LifecycleEvent.UNDEFINED)
    assert events.events[-1].power_state is None
    assert await driver.list_domains() == []
    await driver.close()


async def test_power_actions_and_their_events(tmp_path: Path) -> None:
    driver, events = await simulated(tmp_path)
    request = spawn()
    iid = request.instance_id
    await driver.spawn(request)
    assert (await driver.power(iid, PowerAction.PAUSE)).power_state is PowerState.PAUSED
    await events.wait_for(lambda e: e[-1].event is LifecycleEvent.SUSPENDED)
    assert (await driver.power(iid, PowerAction.UNPAUSE)).power_state is PowerState.RUNNING
    assert (await driver.power(iid, PowerAction.SUSPEND)).power_state is PowerState.SUSPENDED
    await events.wait_for(lambda e: e[-1].detail == "saved")
    assert events.events[-1].power_state is PowerState.SUSPENDED
    assert (await driver.power(iid, PowerAction.RESUME)).power_state is PowerState.RUNNING
    assert (await driver.power(iid, PowerAction.REBOOT)).power_state is PowerState.RUNNING
    off = await driver.power(iid, PowerAction.POWER_OFF, timeout_s=1)
    assert off.power_state is PowerState.SHUTDOWN
    await events.wait_for(lambda e: e[-1].event is LifecycleEvent.STOPPED)
    with pytest.raises(NotFoundError):
        await driver.power(uuid4(), PowerAction.POWER_ON)
    assert await driver.console_output(iid) == ""
    await driver.close()


async def test_a_domain_destroyed_behind_the_agents_back_is_reported(tmp_path: Path) -> None:
    driver, events = await simulated(tmp_path)
    request = spawn()
    await driver.spawn(request)
    started_at = time.monotonic()
    await asyncio.to_thread(
        lambda: driver.connection.lookupByUUIDString(str(request.instance_id)).destroy()
    )
    await events.wait_for(
        lambda e: (e[-1].event, e[-1].power_state) == (LifecycleEvent.STOPPED, PowerState.SHUTDOWN),
        timeout=1,
    )
    assert time.monotonic() - started_at < 1
    assert events.events[-1].detail == "destroyed"
    await driver.close()


async def test_agents_sharing_a_libvirt_never_touch_each_others_domains(tmp_path: Path) -> None:
    mine = LibvirtHypervisor("cmp-a", tmp_path / "a", "test:///default")
    theirs = LibvirtHypervisor("cmp-b", tmp_path / "b", "test:///default")
    mine_events, their_events = Recorder(), Recorder()
    await mine.start(mine_events)
    await theirs.start(their_events)
    request = spawn()
    await mine.spawn(request)
    await mine_events.wait_for(lambda e: len(e) >= 2)
    assert [d.instance_id for d in await mine.list_domains()] == [request.instance_id]
    assert await theirs.list_domains() == []
    assert await theirs.destroy(request.instance_id) is False
    with pytest.raises(DriverError, match="another host"):
        await theirs.spawn(request)
    await mine.destroy(request.instance_id)
    await mine_events.wait_for(lambda e: e[-1].event is LifecycleEvent.UNDEFINED)
    assert their_events.events == []
    await mine.close()
    await theirs.close()


async def test_the_simulated_node_keeps_its_domains_across_a_restart(tmp_path: Path) -> None:
    driver, events = await simulated(tmp_path)
    running, paused = spawn(name="running"), spawn(name="paused")
    await driver.spawn(running)
    await driver.spawn(paused)
    await driver.power(paused.instance_id, PowerAction.PAUSE)
    await events.wait_for(lambda e: e[-1].event is LifecycleEvent.SUSPENDED)
    await driver.close()
    again, _ = await simulated(tmp_path)
    states = {d.instance_id: d.power_state for d in await again.list_domains()}
    assert states == {
        running.instance_id: PowerState.RUNNING,
        paused.instance_id: PowerState.PAUSED,
    }
    await again.close()
