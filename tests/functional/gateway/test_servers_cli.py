"""The real `openstack` CLI drives servers against the in-process cloud as the demo
member: create --wait, list, show, reboot --hard --wait, stop/start, delete --wait."""

from __future__ import annotations

from tests.functional.gateway.cli import cli_as
from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_servers import seeded

openstack, as_json = cli_as("demo")


async def test_openstack_cli_server_lifecycle(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    created = await as_json(
        cloud,
        "server",
        "create",
        "--flavor",
        ids["tiny"],
        "--image",
        ids["image"],
        "--wait",
        "cli-vm",
    )
    assert created["status"] == "ACTIVE" and created["name"] == "cli-vm"
    listed = await as_json(cloud, "server", "list")
    assert [s["Name"] for s in listed] == ["cli-vm"]
    await openstack(cloud, "server", "reboot", "--hard", "--wait", "cli-vm")
    await openstack(cloud, "server", "stop", "cli-vm")
    await cloud.wait_for(
        f"/compute/v2.1/servers/{created['id']}",
        cloud.demo,
        "server",
        lambda s: s["status"] == "SHUTOFF",
    )
    await openstack(cloud, "server", "start", "cli-vm")
    await cloud.wait_for(
        f"/compute/v2.1/servers/{created['id']}",
        cloud.demo,
        "server",
        lambda s: s["status"] == "ACTIVE",
    )
    await openstack(cloud, "server", "delete", "--wait", "cli-vm")
    gone = await cloud.request("GET", f"/compute/v2.1/servers/{created['id']}", cloud.demo)
    assert gone.status == 404, gone
