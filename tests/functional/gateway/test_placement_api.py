"""Scheduler explanations through the gateway: a NoValidHost fault names the filter that
removed the last hosts, and `GET /v1/servers/{id}/placement` (admins) counts the hosts
each filter removed, ranks the best hosts with each weigher's share, and gives one
host's verdict with `?host=`."""

from __future__ import annotations

import uuid
from typing import Any

from tests.functional.gateway.cloud import Account, Cloud

V = "/compute/v2.1"
MV = {"OpenStack-API-Version": "compute 2.79"}
HUGE = 10**6  # GB of root disk: no compute host has it (disk is not under quota)


async def _boot(cloud: Cloud, who: Account, flavor: str) -> str:
    async with cloud.pool.acquire() as conn:
        image = await conn.fetchval("SELECT id FROM images WHERE name = 'busybox'")
    server = {"name": "vm", "imageRef": str(image), "flavorRef": flavor, "networks": "none"}
    answer = await cloud.request("POST", f"{V}/servers", who, json={"server": server})
    assert answer.status == 202, answer
    server_id: str = answer.body["server"]["id"]
    return server_id


async def _new_flavor(cloud: Cloud, disk: int) -> str:
    flavor = {"name": f"f-{uuid.uuid4().hex[:6]}", "ram": 64, "vcpus": 1, "disk": disk}
    answer = await cloud.request(
        "POST", f"{V}/flavors", cloud.admin, json={"flavor": flavor}, headers=MV
    )
    assert answer.status == 200, answer
    flavor_id: str = answer.body["flavor"]["id"]
    return flavor_id


async def _tiny_flavor(cloud: Cloud) -> str:
    async with cloud.pool.acquire() as conn:
        return str(await conn.fetchval("SELECT id FROM flavors WHERE name = 'm1.tiny'"))


async def _placement(cloud: Cloud, server_id: str, query: str = "") -> dict[str, Any]:
    answer = await cloud.request("GET", f"/v1/servers/{server_id}/placement{query}", cloud.admin)
    assert answer.status == 200, answer
    placement: dict[str, Any] = answer.body["placement"]
    return placement


async def test_a_no_valid_host_fault_names_the_last_filter(cloud: Cloud) -> None:
    server_id = await _boot(cloud, cloud.demo, await _new_flavor(cloud, disk=HUGE))

    server = await cloud.wait_for(
        f"{V}/servers/{server_id}", cloud.demo, "server", lambda s: s["status"] == "ERROR"
    )

    message = server["fault"]["message"]
    assert "No valid host" in message
    assert "resources" in message


async def test_the_flavor_s_extra_specs_reach_the_scheduler(cloud: Cloud) -> None:
    flavor = await _new_flavor(cloud, disk=1)
    specs = {"extra_specs": {"capabilities:hypervisor_type": "xen"}}
    answer = await cloud.request(
        "POST", f"{V}/flavors/{flavor}/os-extra_specs", cloud.admin, json=specs
    )
    assert answer.status == 200, answer

    server_id = await _boot(cloud, cloud.demo, flavor)

    server = await cloud.wait_for(
        f"{V}/servers/{server_id}", cloud.demo, "server", lambda s: s["status"] == "ERROR"
    )
    assert "compute_capabilities" in server["fault"]["message"]


async def test_the_image_s_properties_reach_the_scheduler(cloud: Cloud) -> None:
    async with cloud.pool.acquire() as conn:
        await conn.execute(
            'UPDATE images SET properties = properties || \'{"img_hv_type": "xen"}\' '
            "WHERE name = 'busybox'"
        )
    try:
        server_id = await _boot(cloud, cloud.demo, await _tiny_flavor(cloud))
        server = await cloud.wait_for(
            f"{V}/servers/{server_id}", cloud.demo, "server", lambda s: s["status"] == "ERROR"
        )
    finally:
        async with cloud.pool.acquire() as conn:
            await conn.execute(
                "UPDATE images SET properties = properties - 'img_hv_type' WHERE name = 'busybox'"
            )
    assert "image_properties" in server["fault"]["message"]


async def test_an_admin_sees_why_no_host_fits(cloud: Cloud) -> None:
    server_id = await _boot(cloud, cloud.demo, await _new_flavor(cloud, disk=HUGE))
    await cloud.wait_for(
        f"{V}/servers/{server_id}", cloud.demo, "server", lambda s: s["status"] == "ERROR"
    )

    placement = await _placement(cloud, server_id, "?host=compute-2")

    assert placement["server_id"] == server_id and placement["current_host"] is None
    assert placement["considered"] == 3 and placement["passed"] == 0
    assert {"filter": "resources", "removed": 3} in placement["filters"]
    assert placement["last_filter"] == "resources"
    assert placement["best"] == []
    verdict = placement["host"]
    assert verdict["host"] == "compute-2" and verdict["passed"] is False
    assert verdict["filter"] == "resources" and "disk" in verdict["reason"]


async def test_an_admin_sees_how_the_hosts_weigh(cloud: Cloud) -> None:
    server_id = await _boot(cloud, cloud.demo, await _tiny_flavor(cloud))
    server = await cloud.wait_for(
        f"{V}/servers/{server_id}", cloud.admin, "server", lambda s: s["status"] == "ACTIVE"
    )

    placement = await _placement(cloud, server_id, "?host=compute-1&limit=2")

    assert placement["current_host"] == server["OS-EXT-SRV-ATTR:host"]
    assert placement["passed"] == 3 and placement["last_filter"] is None
    assert [best["rank"] for best in placement["best"]] == [0, 1]
    first = placement["best"][0]
    assert first["contributions"] and "ram" in first["contributions"]
    assert placement["host"]["passed"] is True
    assert placement["host"]["weight"]["host"] == "compute-1"


async def test_only_admins_may_ask(cloud: Cloud) -> None:
    server_id = await _boot(cloud, cloud.demo, await _tiny_flavor(cloud))

    answer = await cloud.request("GET", f"/v1/servers/{server_id}/placement", cloud.demo)

    assert answer.status == 403, answer


async def test_an_unknown_server_is_not_found(cloud: Cloud) -> None:
    answer = await cloud.request("GET", f"/v1/servers/{uuid.uuid4()}/placement", cloud.admin)

    assert answer.status == 404, answer


async def test_a_bad_host_name_is_refused(cloud: Cloud) -> None:
    server_id = await _boot(cloud, cloud.demo, await _tiny_flavor(cloud))

    answer = await cloud.request(
        "GET", f"/v1/servers/{server_id}/placement?host=bad%20name", cloud.admin
    )

    assert answer.status == 400, answer
