"""Compute-role plumbing on real OVS + OVN: the OVS VifDriver plugs a port into a chassis's
br-int and the southbound watcher reports it up the moment ovn-controller binds it, then
down again once it is unplugged (node_agent/drivers/vif/ovs.py, ovn_binding.py).

The logical switch port is written with ovn-nbctl (named by the port's UUID, as the
network driver names it): this proves the compute side, not the northbound driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest

from node_agent.drivers.vif.base import PortState, VifKind, tap_name
from node_agent.drivers.vif.ovn_binding import SbPortBindingWatcher
from node_agent.drivers.vif.ovs import OvsVif
from schemas.network import Port
from tests.integration.ovn_scratch import OvnScratch
from tests.integration.ovn_stack import OvnStack, list_netns, run

pytestmark = pytest.mark.integration

BOUND_WITHIN_S = 15.0


def make_port(mac: str) -> Port:
    return Port(id=uuid4(), network_id=uuid4(), project_id=uuid4(), mac_address=mac)


def add_lsp(stack: OvnStack, switch: str, port: Port, ip: str) -> None:
    lsp = str(port.id)
    stack.nbctl("lsp-add", switch, lsp, "--", "lsp-set-addresses", lsp, f"{port.mac_address} {ip}")


class States:
    """The PortStates the driver reported, in order, awaitable."""

    def __init__(self) -> None:
        self.seen: list[PortState] = []
        self._changed = asyncio.Event()

    def __call__(self, state: PortState) -> None:
        self.seen.append(state)
        self._changed.set()

    async def wait_for(self, port_id: UUID, up: bool, timeout_s: float = BOUND_WITHIN_S) -> float:
        """Seconds until `port_id` was reported `up`; fails after `timeout_s`."""
        start = time.monotonic()
        async with asyncio.timeout(timeout_s):
            while not any(s.port_id == port_id and s.up == up for s in self.seen):
                self._changed.clear()
                await self._changed.wait()
        return time.monotonic() - start


@contextlib.asynccontextmanager
async def vif_driver(stack: OvnStack, states: States) -> AsyncIterator[OvsVif]:
    chassis = stack.chassis[0]
    watcher = SbPortBindingWatcher(stack.sb_db, chassis.name)
    driver = OvsVif(chassis.ovs_db, "br-int", host_netns=chassis.netns, watcher=watcher)
    await driver.start(states)
    try:
        yield driver
    finally:
        for info in await driver.list():
            await driver.unplug(info.port_id)
        await driver.close()


def interface_ids(stack: OvnStack, device: str) -> str:
    return stack.chassis[0].vsctl("get", "Interface", device, "external_ids")


def br_int_ports(stack: OvnStack) -> list[str]:
    return stack.chassis[0].vsctl("list-ports", "br-int").split()


async def test_veth_guest_is_reported_up_when_bound_and_down_when_unplugged(
    ovn_stack: OvnStack, ovn_scratch: OvnScratch
) -> None:
    switch = ovn_scratch.switch(ovn_stack)
    port = make_port("02:00:00:0c:00:0a")
    add_lsp(ovn_stack, switch, port, "10.30.0.10")
    instance_id = uuid4()
    guest_ns = f"{ovn_stack.prefix}-g-{port.id.hex[:8]}"
    states = States()
    async with vif_driver(ovn_stack, states) as driver:
        info = await driver.plug(instance_id, port, kind=VifKind.VETH, netns=guest_ns)
        assert info.device == tap_name(port.id) == "tap" + str(port.id)[:11]
        took = await states.wait_for(port.id, up=True)
        assert ovn_stack.bound_chassis(str(port.id)) == ovn_stack.chassis[0].name
        assert states.seen[0] == PortState(port.id, True, ovn_stack.chassis[0].name)
        assert took < BOUND_WITHIN_S
        ids = interface_ids(ovn_stack, info.device)
        assert f'iface-id="{port.id}"' in ids and f'vm-uuid="{instance_id}"' in ids
        assert f'attached-mac="{port.mac_address}"' in ids
        assert info.device in br_int_ports(ovn_stack)
        guest_eth0 = run("ip", "-n", guest_ns, "-o", "link", "show", "dev", "eth0")
        assert str(port.mac_address) in guest_eth0
        assert [v.port_id for v in await driver.list()] == [port.id]

        again = await driver.plug(instance_id, port, kind=VifKind.VETH, netns=guest_ns)
        assert again == info and br_int_ports(ovn_stack).count(info.device) == 1

        assert await driver.unplug(port.id)
        await states.wait_for(port.id, up=False)
        assert info.device not in br_int_ports(ovn_stack)
        assert guest_ns not in list_netns()
        assert await driver.list() == ()
        assert not await driver.unplug(port.id)


async def test_tap_for_a_qemu_guest_is_plugged_and_bound(
    ovn_stack: OvnStack, ovn_scratch: OvnScratch
) -> None:
    switch = ovn_scratch.switch(ovn_stack)
    port = make_port("02:00:00:0c:00:0b")
    add_lsp(ovn_stack, switch, port, "10.30.0.11")
    states = States()
    async with vif_driver(ovn_stack, states) as driver:
        info = await driver.plug(uuid4(), port)
        chassis = ovn_stack.chassis[0]
        tap = run("ip", "-n", chassis.netns, "-d", "-o", "link", "show", "dev", info.device)
        assert "tun type tap" in tap
        await states.wait_for(port.id, up=True)
        assert ovn_stack.bound_chassis(str(port.id)) == chassis.name
        assert await driver.unplug(port.id)
        await states.wait_for(port.id, up=False)
        assert info.device not in run("ip", "-n", chassis.netns, "-o", "link", "show")


async def test_watcher_reports_ports_bound_before_it_started(
    ovn_stack: OvnStack, ovn_scratch: OvnScratch
) -> None:
    """An agent restart: a port already up is reported by the new watcher at once."""
    switch = ovn_scratch.switch(ovn_stack)
    port = make_port("02:00:00:0c:00:0c")
    add_lsp(ovn_stack, switch, port, "10.30.0.12")
    first = States()
    async with vif_driver(ovn_stack, first) as driver:
        await driver.plug(uuid4(), port)
        await first.wait_for(port.id, up=True)
        later = States()
        watcher = SbPortBindingWatcher(ovn_stack.sb_db, ovn_stack.chassis[0].name)
        await watcher.start(later)
        try:
            await later.wait_for(port.id, up=True, timeout_s=5)
        finally:
            await watcher.close()


async def test_a_migrated_port_goes_down_on_the_source_and_up_on_the_destination(
    ovn_stack_2: OvnStack, ovn_scratch: OvnScratch
) -> None:
    """Cold migration as the agents do it: plugged on the destination (requested chassis
    moved there), unplugged on the source; each chassis's watcher reports its side."""
    stack = ovn_stack_2
    source, destination = stack.chassis
    switch = ovn_scratch.switch(stack)
    port = make_port("02:00:00:0c:00:0d")
    add_lsp(stack, switch, port, "10.30.0.13")
    lsp = str(port.id)
    stack.nbctl("set", "Logical_Switch_Port", lsp, f"options:requested-chassis={source.name}")
    drivers, states = [], []
    try:
        for chassis in (source, destination):
            seen = States()
            watcher = SbPortBindingWatcher(stack.sb_db, chassis.name)
            driver = OvsVif(chassis.ovs_db, "br-int", host_netns=chassis.netns, watcher=watcher)
            await driver.start(seen)
            drivers.append(driver)
            states.append(seen)
        instance_id = uuid4()
        await drivers[0].plug(instance_id, port)
        await states[0].wait_for(port.id, up=True)

        stack.nbctl(
            "set", "Logical_Switch_Port", lsp, f"options:requested-chassis={destination.name}"
        )
        await drivers[1].plug(instance_id, port)
        await states[1].wait_for(port.id, up=True)
        await states[0].wait_for(port.id, up=False)
        assert stack.bound_chassis(lsp) == destination.name
        assert await drivers[0].unplug(port.id)
        assert tap_name(port.id) not in source.vsctl("list-ports", "br-int").split()
        assert [s.up for s in states[1].seen] == [True]  # the source's unplug changed nothing
    finally:
        for driver in drivers:
            await driver.unplug(port.id)
            await driver.close()
