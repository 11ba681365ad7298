"""The fake hypervisor: idempotent operations, lifecycle events, fault and latency
injection, state that outlives a restart, and the out-of-band hook."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import uuid4

import pytest

from node_agent.drivers.errors import InvalidStateError, NotFoundError, TransientError
from node_agent.drivers.hypervisor import fake_control
from node_agent.drivers.hypervisor.base import DomainEvent, LifecycleEvent, PowerAction
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from schemas.instance_state import PowerState
from tests.unit.node_agent.factories import port, spawn, volume


class Recorder:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def __call__(self, event: DomainEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[tuple[LifecycleEvent, PowerState | None]]:
        return [(e.event, e.power_state) for e in self.events]


async def started(
    state_dir: Path, host: str = "cmp1", *, control_socket: bool = True
) -> tuple[FakeHypervisor, Recorder]:
    driver = FakeHypervisor(host, state_dir, control_socket=control_socket)
    events = Recorder()
    await driver.start(events)
    return driver, events


async def test_spawn_defines_and_starts_once(tmp_path: Path) -> None:
    driver, events = await started(tmp_path)
    request = spawn(ports=(port(),), volumes=(volume(),))
    info = await driver.spawn(request)
    again = await driver.spawn(request)
    assert info == again
    assert info.power_state is PowerState.RUNNING
    assert info.port_ids == (request.ports[0].id,)
    assert [v.device for v in info.volumes] == ["/dev/vdb"]
    assert events.kinds() == [
        (LifecycleEvent.DEFINED, PowerState.SHUTDOWN),
        (LifecycleEvent.STARTED, PowerState.RUNNING),
    ]
    await driver.close()


async def test_destroy_is_idempotent(tmp_path: Path) -> None:
    driver, events = await started(tmp_path)
    request = spawn()
    await driver.spawn(request)
    assert await driver.destroy(request.instance_id) is True
    assert await driver.destroy(request.instance_id) is False
    assert await driver.list_domains() == []
    assert events.kinds()[-2:] == [
        (LifecycleEvent.STOPPED, PowerState.SHUTDOWN),
        (LifecycleEvent.UNDEFINED, None),
    ]


async def test_power_actions_follow_the_state_machine(tmp_path: Path) -> None:
    driver, events = await started(tmp_path)
    request = spawn()
    await driver.spawn(request)
    iid = request.instance_id
    assert (await driver.power(iid, PowerAction.PAUSE)).power_state is PowerState.PAUSED
    assert (await driver.power(iid, PowerAction.PAUSE)).power_state is PowerState.PAUSED
    assert (await driver.power(iid, PowerAction.UNPAUSE)).power_state is PowerState.RUNNING
    assert (await driver.power(iid, PowerAction.SUSPEND)).power_state is PowerState.SUSPENDED
    with pytest.raises(InvalidStateError):
        await driver.power(iid, PowerAction.PAUSE)
    assert (await driver.power(iid, PowerAction.RESUME)).power_state is PowerState.RUNNING
    assert (await driver.power(iid, PowerAction.POWER_OFF)).power_state is PowerState.SHUTDOWN
    assert (await driver.power(iid, PowerAction.POWER_ON)).power_state is PowerState.RUNNING
    assert (await driver.power(iid, PowerAction.REBOOT)).power_state is PowerState.RUNNING
    with pytest.raises(NotFoundError):
        await driver.power(uuid4(), PowerAction.POWER_ON)
    assert [e.event for e in events.events[2:]] == [
        LifecycleEvent.SUSPENDED,
        LifecycleEvent.RESUMED,
        LifecycleEvent.STOPPED,
        LifecycleEvent.STARTED,
        LifecycleEvent.STOPPED,
        LifecycleEvent.STARTED,
    ]
    assert "[reboot]" in await driver.console_output(iid)


async def test_fail_next_fails_once_then_recovers(tmp_path: Path) -> None:
    driver, _ = await started(tmp_path)
    driver.faults.fail_next("spawn", TransientError("no space left on device"))
    request = spawn()
    with pytest.raises(TransientError, match="no space"):
        await driver.spawn(request)
    assert await driver.list_domains() == []
    assert (await driver.spawn(request)).power_state is PowerState.RUNNING
    assert driver.faults.calls["spawn"] == 2


async def test_latency_injection_delays_the_operation(tmp_path: Path) -> None:
    driver, _ = await started(tmp_path)
    driver.faults.add_latency("spawn", 0.2)
    started_at = time.monotonic()
    await driver.spawn(spawn())
    assert time.monotonic() - started_at >= 0.2


async def test_domains_outlive_a_restart(tmp_path: Path) -> None:
    driver, _ = await started(tmp_path, control_socket=False)
    kept, paused = spawn(name="kept"), spawn(name="paused")
    await driver.spawn(kept)
    await driver.spawn(paused)
    await driver.power(paused.instance_id, PowerAction.PAUSE)
    # a crash: no close(), a new driver on the same state directory
    again, events = await started(tmp_path)
    states = {d.instance_id: d.power_state for d in await again.list_domains()}
    assert states == {kept.instance_id: PowerState.RUNNING, paused.instance_id: PowerState.PAUSED}
    assert events.events == []
    await driver.close()
    await again.close()


async def test_destroy_out_of_band_emits_a_stopped_event(tmp_path: Path) -> None:
    driver, events = await started(tmp_path)
    request = spawn()
    await driver.spawn(request)
    driver.destroy_out_of_band(request.instance_id)
    assert events.events[-1] == DomainEvent(
        request.instance_id, LifecycleEvent.STOPPED, PowerState.SHUTDOWN, "destroyed"
    )
    assert (await driver.list_domains())[0].power_state is PowerState.SHUTDOWN


async def test_out_of_band_from_another_process_through_the_socket(tmp_path: Path) -> None:
    driver, events = await started(tmp_path)
    request = spawn()
    await driver.spawn(request)
    assert await fake_control.send(tmp_path, "crash", str(request.instance_id)) == "live"
    assert events.events[-1].event is LifecycleEvent.CRASHED
    with pytest.raises(Exception, match="no domain"):
        await fake_control.send(tmp_path, "destroy", str(uuid4()))
    await driver.close()


async def test_out_of_band_while_the_agent_is_down_edits_the_state(tmp_path: Path) -> None:
    driver, _ = await started(tmp_path)
    request = spawn()
    await driver.spawn(request)
    await driver.close()
    assert await fake_control.send(tmp_path, "destroy", str(request.instance_id)) == "offline"
    again, _ = await started(tmp_path)
    assert (await again.list_domains())[0].power_state is PowerState.SHUTDOWN
    await again.close()
