"""A boot waits for its ports to be plugged, as Nova waits for `network-vif-plugged`:
the compute agent plugs the server's ports (the fake VIF driver here), and the server
stays BUILD until the network reports them up (port.active); when they never come up
within `vif_plug_timeout_s` the spawn fails (vif_plugging_is_fatal) and, after the
conductor's attempts on every host, the server is ERROR with the reason."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from node_agent.drivers.vif.fake import FakeVif
from tests.functional.gateway.cloud import COMPUTES, Cloud, running_cloud
from tests.functional.gateway.test_server_boot_ports import (
    boot,
    delete_server,
    ports_of,
    private_network,
)
from tests.functional.gateway.test_servers import SERVERS, wait_status


@pytest.fixture
async def held_cloud(
    cloud_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cloud]:
    """The cloud with VIF plugging timing out after 1.5 s, and port states held back."""
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    async with running_cloud(cloud_dsn, tmp_path, vif_plug_timeout_s=1.5) as cloud:
        for vif in vifs(cloud).values():
            vif.auto_up = False
        yield cloud


def vifs(cloud: Cloud) -> dict[str, FakeVif]:
    found = {}
    for host in COMPUTES:
        driver = cloud.agents[host].drivers.vif
        assert isinstance(driver, FakeVif)
        found[host] = driver
    return found


async def plugged_on(cloud: Cloud, port_id: uuid.UUID, timeout_s: float = 5) -> FakeVif:
    """The VIF driver of the host that plugged `port_id`."""
    async with asyncio.timeout(timeout_s):
        while True:
            for vif in vifs(cloud).values():
                if port_id in {info.port_id for info in await vif.list()}:
                    return vif
            await asyncio.sleep(0.02)


async def test_the_server_is_active_only_once_its_port_is_up(held_cloud: Cloud) -> None:
    cloud = held_cloud
    private = await private_network(cloud)
    answer = await boot(cloud, cloud.demo, "vm-vif", [{"uuid": private}])
    assert answer.status == 202, answer
    server_id = answer.body["server"]["id"]
    (port,) = await ports_of(cloud, cloud.demo, server_id)  # made with the server
    port_id = uuid.UUID(port["id"])
    vif = await plugged_on(cloud, port_id)
    await asyncio.sleep(0.5)  # the domain runs by now; its port is not up
    server = await cloud.request("GET", f"{SERVERS}/{server_id}", cloud.demo)
    assert server.body["server"]["status"] == "BUILD"

    vif.report(port_id, True)
    await wait_status(cloud, cloud.demo, server_id, "ACTIVE")

    await delete_server(cloud, cloud.demo, server_id)
    assert await vif.list() == ()  # unplugged with the domain


async def test_a_port_never_up_fails_the_boot_after_the_timeout(held_cloud: Cloud) -> None:
    cloud = held_cloud
    private = await private_network(cloud)
    answer = await boot(cloud, cloud.demo, "vm-novif", [{"uuid": private}])
    assert answer.status == 202, answer
    server_id = answer.body["server"]["id"]
    server = await cloud.wait_for(
        f"{SERVERS}/{server_id}", cloud.admin, "server", lambda s: s["status"] == "ERROR", 20
    )
    assert "Virtual Interface creation failed" in server["fault"]["message"]
    for vif in vifs(cloud).values():  # every attempt unplugged what it plugged
        assert await vif.list() == ()
