"""The real OpenStack clients against the real mesh (`skymesh up --detach`, fake
drivers): the `openstack` CLI and openstacksdk, configured only by the clouds.yaml and
the two export lines that `skymesh up` prints."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.functional.mesh.deployment import Deployment, exports, openstack


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def test_up_writes_clouds_yaml_and_prints_the_exports(deployment: Deployment) -> None:
    found = exports(deployment)
    path = Path(found["OS_CLIENT_CONFIG_FILE"])
    text = await asyncio.to_thread(path.read_text)
    assert path.is_absolute()
    assert found["OS_CLOUD"] == "skymesh"
    assert "skymesh-admin" in text
    token = await openstack(deployment, "token", "issue", "-f", "json")
    assert token["project_id"]


async def test_server_lifecycle_with_the_cli(deployment: Deployment) -> None:
    flavors = await openstack(deployment, "flavor", "list", "-f", "json")
    assert "m1.tiny" in {f["Name"] for f in flavors}
    server = name("cli")
    created = await openstack(
        deployment, "server", "create", "--flavor", "m1.tiny", "--image", "busybox",
        "--network", "private", "--wait", "-f", "json", server,
    )  # fmt: skip
    assert created["status"] == "ACTIVE"
    listed = await openstack(deployment, "server", "list", "-f", "json")
    assert server in {s["Name"] for s in listed}
    await openstack(deployment, "server", "reboot", "--hard", "--wait", server)
    shown = await openstack(deployment, "server", "show", "-f", "json", server)
    assert shown["status"] == "ACTIVE"
    await openstack(deployment, "server", "stop", server)
    await _wait_status(deployment, server, "SHUTOFF")
    await openstack(deployment, "server", "start", server)
    await _wait_status(deployment, server, "ACTIVE")
    await openstack(deployment, "server", "delete", "--wait", server)
    listed = await openstack(deployment, "server", "list", "-f", "json")
    assert server not in {s["Name"] for s in listed}


async def _wait_status(deployment: Deployment, server: str, status: str) -> None:
    for _ in range(100):
        shown = await openstack(deployment, "server", "show", "-f", "json", server)
        if shown["status"] == status:
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"{server} never became {status}: {shown['status']}")


async def test_networking_and_a_floating_ip_with_the_cli(deployment: Deployment) -> None:
    net, subnet, router, server = name("net"), name("sub"), name("router"), name("fip")
    await openstack(deployment, "network", "create", net)
    await openstack(
        deployment, "subnet", "create", "--network", net, "--subnet-range", "10.77.0.0/24", subnet
    )
    port = await openstack(deployment, "port", "create", "--network", net, "-f", "json", name("p"))
    assert port["fixed_ips"]
    await openstack(deployment, "router", "create", router)
    await openstack(deployment, "router", "add", "subnet", router, subnet)
    await openstack(deployment, "router", "set", "--external-gateway", "public", router)
    networks = await openstack(deployment, "network", "list", "-f", "json")
    assert {net, "public"} <= {n["Name"] for n in networks}
    await openstack(
        deployment, "server", "create", "--flavor", "m1.tiny", "--image", "busybox",
        "--network", net, "--wait", server,
    )  # fmt: skip
    fip = await openstack(deployment, "floating", "ip", "create", "public", "-f", "json")
    address = fip["floating_ip_address"]
    await openstack(deployment, "server", "add", "floating", "ip", server, address)
    shown = await openstack(deployment, "floating", "ip", "show", address, "-f", "json")
    assert shown["port_id"]
    await openstack(deployment, "server", "delete", "--wait", server)


async def test_volume_attached_with_the_cli(deployment: Deployment) -> None:
    volume, server = name("vol"), name("vm")
    await openstack(deployment, "volume", "create", "--size", "1", volume)
    await _wait_volume(deployment, volume, "available")
    await openstack(
        deployment, "server", "create", "--flavor", "m1.tiny", "--image", "busybox",
        "--network", "private", "--wait", server,
    )  # fmt: skip
    await openstack(deployment, "server", "add", "volume", server, volume)
    shown = await _wait_volume(deployment, volume, "in-use")
    assert shown["attachments"]
    await openstack(deployment, "server", "delete", "--wait", server)


async def _wait_volume(deployment: Deployment, volume: str, status: str) -> dict[str, Any]:
    for _ in range(100):
        shown: dict[str, Any] = await openstack(deployment, "volume", "show", "-f", "json", volume)
        if shown["status"] == status:
            return shown
        await asyncio.sleep(0.2)
    pytest.fail(f"{volume} never became {status}: {shown['status']}")


async def test_openstacksdk_create_wait_delete(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in exports(deployment).items():
        monkeypatch.setenv(key, value)  # what a user's shell has after the exports

    def scenario() -> tuple[str, bool]:
        import openstack as sdk

        conn = sdk.connect()
        server = conn.create_server(
            name("sdk"), image="busybox", flavor="m1.tiny", network="private", wait=True
        )
        server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
        status = server.status
        conn.delete_server(server.id, wait=False)
        conn.compute.wait_for_delete(server, wait=60)
        gone = conn.compute.find_server(server.id) is None
        conn.close()
        return status, gone

    status, gone = await asyncio.to_thread(scenario)
    assert status == "ACTIVE"
    assert gone
