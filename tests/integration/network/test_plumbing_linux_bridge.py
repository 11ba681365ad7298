"""VIFs on a Linux bridge (node_agent/drivers/vif/linux_bridge.py), for hosts without
OVN: two namespace guests plugged into a bridge of a private "host" namespace reach
each other; unplugging takes the device off the bridge and removes the guest."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from node_agent.drivers.vif.base import PortState, VifKind, tap_name
from node_agent.drivers.vif.linux_bridge import LinuxBridgeVif
from schemas.network import Port
from tests.integration.ovn_stack import list_netns, run

pytestmark = pytest.mark.integration


@pytest.fixture
def host_netns() -> Iterator[str]:
    """A namespace standing in for the host, and every namespace named after it, removed
    at the end."""
    name = f"skm-lb-{uuid.uuid4().hex[:6]}"
    run("ip", "netns", "add", name)
    try:
        yield name
    finally:
        for ns in list_netns():
            if ns.startswith(name):
                run("ip", "netns", "delete", ns)


def make_port(mac: str) -> Port:
    return Port(id=uuid4(), network_id=uuid4(), project_id=uuid4(), mac_address=mac)


async def test_guests_on_a_linux_bridge_reach_each_other(host_netns: str, tmp_path: Path) -> None:
    seen: list[PortState] = []
    # an agent stops on SIGTERM: working in namespaces must not look like one (pyroute2's
    # netns= sockets fork children that share the loop's signal wakeup fd)
    signals: list[int] = []
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, signals.append, signal.SIGTERM)
    driver = LinuxBridgeVif("brq-test", tmp_path, host_netns=host_netns)
    await driver.start(seen.append)
    a, b = make_port("02:00:00:0d:00:0a"), make_port("02:00:00:0d:00:0b")
    ns_a, ns_b = f"{host_netns}-a", f"{host_netns}-b"
    info_a = await driver.plug(uuid4(), a, kind=VifKind.VETH, netns=ns_a)
    await driver.plug(uuid4(), b, kind=VifKind.VETH, netns=ns_b)
    assert await driver.plug(info_a.instance_id or uuid4(), a, kind=VifKind.VETH, netns=ns_a)
    assert seen[:2] == [PortState(a.id, True), PortState(b.id, True)]
    bridged = run("ip", "-n", host_netns, "-o", "link", "show", "master", "brq-test")
    assert tap_name(a.id) in bridged and tap_name(b.id) in bridged
    run("ip", "-n", ns_a, "addr", "add", "10.40.0.1/24", "dev", "eth0")
    run("ip", "-n", ns_b, "addr", "add", "10.40.0.2/24", "dev", "eth0")
    run("ip", "netns", "exec", ns_a, "ping", "-c", "1", "-W", "2", "10.40.0.2")
    assert {v.port_id for v in await driver.list()} == {a.id, b.id}

    assert await driver.unplug(a.id)
    assert seen[-1] == PortState(a.id, False)
    assert tap_name(a.id) not in run("ip", "-n", host_netns, "-o", "link", "show")
    assert ns_a not in list_netns() and ns_b in list_netns()
    assert [v.port_id for v in await driver.list()] == [b.id]
    assert not await driver.unplug(a.id)
    await driver.close()
    await asyncio.sleep(0.1)
    loop.remove_signal_handler(signal.SIGTERM)
    assert signals == []
