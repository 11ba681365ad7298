"""openstacksdk drives servers against the in-process cloud as the demo member:
create_server + wait_for_server, the server's fields, delete_server + wait_for_delete."""

from __future__ import annotations

import asyncio
from typing import Any

import openstack

from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_servers import seeded


def _connect(cloud: Cloud) -> Any:
    return openstack.connect(
        auth_url=f"{cloud.url}/identity/v3",
        username="demo",
        password="demo",
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
        identity_api_version="3",
    )


def _lifecycle(cloud: Cloud, flavor: str, image: str) -> dict[str, Any]:
    conn = _connect(cloud)
    server = conn.create_server(
        "sdk-vm", image=image, flavor=flavor, wait=True, timeout=60, auto_ip=False
    )
    seen = {"status": server.status, "flavor": dict(server.flavor), "id": server.id}
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    return seen


async def test_sdk_creates_waits_and_deletes(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    seen = await asyncio.to_thread(_lifecycle, cloud, ids["tiny"], ids["image"])
    assert seen["status"] == "ACTIVE"
    assert seen["flavor"]["original_name"] == "m1.tiny"  # the SDK asks for 2.47+
    gone = await cloud.request("GET", f"/compute/v2.1/servers/{seen['id']}", cloud.demo)
    assert gone.status == 404, gone
