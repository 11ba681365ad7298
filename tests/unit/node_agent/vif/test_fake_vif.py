"""The VIF fake and the port waiter: plug/unplug idempotent and persistent, port states
reported on the loop, waits bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

import pytest

from node_agent.drivers.errors import TransientError
from node_agent.drivers.vif.base import PortState, VifKind, guest_name, tap_name
from node_agent.drivers.vif.fake import FakeVif
from node_agent.drivers.vif.waiter import PortWaiter
from tests.unit.node_agent.factories import port


def test_tap_names_are_novas() -> None:
    port_id = "3f5a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
    assert tap_name(port_id) == "tap3f5a1c2e-8b"
    assert guest_name(port_id) == "gst3f5a1c2e-8b"
    assert len(tap_name(port_id)) == 14


async def test_plugged_ports_are_reported_up_then_down_and_persist(tmp_path: Path) -> None:
    seen: list[PortState] = []
    driver = FakeVif(tmp_path)
    await driver.start(seen.append)
    vif, instance_id = port(), uuid4()
    info = await driver.plug(instance_id, vif, kind=VifKind.VETH)
    assert info.device == tap_name(vif.id) and info.netns == guest_name(vif.id)
    assert await driver.plug(instance_id, vif, kind=VifKind.VETH) == info
    await asyncio.sleep(0)
    assert seen[0] == PortState(vif.id, True)
    assert await FakeVif(tmp_path).list() == (info,)  # a restarted agent sees it
    assert await driver.unplug(vif.id) is True
    assert await driver.unplug(vif.id) is False
    await asyncio.sleep(0)
    assert seen[-1] == PortState(vif.id, False)
    assert await driver.list() == ()
    driver.faults.fail_next("plug", TransientError("ovsdb busy"))
    with pytest.raises(TransientError):
        await driver.plug(instance_id, vif)


async def test_held_reports_wait_for_the_test(tmp_path: Path) -> None:
    seen: list[PortState] = []
    driver = FakeVif(tmp_path, auto_up=False)
    await driver.start(seen.append)
    vif = port()
    await driver.plug(uuid4(), vif)
    await asyncio.sleep(0)
    assert seen == []
    driver.report(vif.id, True)
    await asyncio.sleep(0)
    assert seen == [PortState(vif.id, True)]


async def test_waiter_returns_when_all_are_up_or_what_is_missing_at_the_timeout() -> None:
    waiter = PortWaiter()
    a, b = uuid4(), uuid4()
    waiter.update(PortState(a, True))  # seen before the wait: counts
    task = asyncio.create_task(waiter.wait_up([a, b], timeout_s=5))
    await asyncio.sleep(0.01)
    assert not task.done()
    waiter.update(PortState(b, True))
    assert await asyncio.wait_for(task, 1) == set()
    waiter.update(PortState(b, False))
    assert await waiter.wait_up([a, b], timeout_s=0.05) == {b}
