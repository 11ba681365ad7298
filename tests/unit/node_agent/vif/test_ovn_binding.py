"""The southbound watcher's decisions (node_agent/drivers/vif/ovn_binding.py) on
Port_Binding rows as the IDL hands them over: a port is reported when it becomes bound
to this chassis and up, and when it stops being so; nothing else."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from node_agent.drivers.vif.base import PortState
from node_agent.drivers.vif.ovn_binding import SbPortBindingWatcher


def row(port: UUID | str, chassis: str | None, up: bool | None) -> Any:
    return SimpleNamespace(
        logical_port=str(port),
        chassis=[SimpleNamespace(name=chassis)] if chassis else [],
        up=[] if up is None else [up],
    )


async def test_only_changes_of_bound_here_and_up_are_reported() -> None:
    seen: list[PortState] = []
    watcher = SbPortBindingWatcher("unix:/nowhere", "cmp1")
    watcher._sink, watcher._loop = seen.append, asyncio.get_running_loop()
    port = uuid4()
    watcher.observe(row(port, None, None), deleted=False)  # created, unbound
    watcher.observe(row(port, "cmp1", False), deleted=False)  # claimed, flows pending
    watcher.observe(row(port, "cmp1", True), deleted=False)
    watcher.observe(row(port, "cmp1", True), deleted=False)  # an unrelated column changed
    watcher.observe(row(port, "cmp2", True), deleted=False)  # moved away (migration)
    watcher.observe(row(port, "cmp1", True), deleted=False)  # back
    watcher.observe(row(port, "cmp1", True), deleted=True)
    watcher.observe(row(uuid4(), "cmp2", True), deleted=False)  # another chassis's port
    watcher.observe(row("lrp-router", "cmp1", True), deleted=False)  # not a Neutron port
    await asyncio.sleep(0)
    assert [s.up for s in seen] == [True, False, True, False]
    assert all(s.port_id == port and s.chassis == "cmp1" for s in seen)
    assert watcher.up() == set()
