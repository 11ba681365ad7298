"""Compute v2.1 servers through the gateway: create, show, list and detail shapes per
microversion, filters, update, delete, and the 400/403/406 answers."""

from __future__ import annotations

from typing import Any

from conductor.db.queries import flavors, images
from node_agent.drivers.errors import DriverError
from tests.functional.gateway.cloud import Account, Cloud

SERVERS = "/compute/v2.1/servers"
V279 = {"OpenStack-API-Version": "compute 2.79"}


async def seeded(cloud: Cloud) -> dict[str, str]:
    """Ids of the seeded flavors and image."""
    async with cloud.pool.acquire() as conn:
        tiny = await flavors.get_flavor_by_name(conn, "m1.tiny")
        small = await flavors.get_flavor_by_name(conn, "m1.small")
        (busybox,) = [
            i
            for i in await images.list_images(conn, cloud.admin.project_id)
            if i["name"] == "busybox"
        ]
    assert tiny and small
    return {"tiny": str(tiny["id"]), "small": str(small["id"]), "image": str(busybox["id"])}


async def create(cloud: Cloud, who: Account, name: str, **extra: Any) -> str:
    ids = await seeded(cloud)
    server = {"name": name, "flavorRef": ids["tiny"], "imageRef": ids["image"], **extra}
    answer = await cloud.request("POST", SERVERS, who, json={"server": server})
    assert answer.status == 202, answer
    server_id: str = answer.body["server"]["id"]
    return server_id


async def wait_status(cloud: Cloud, who: Account, server_id: str, status: str) -> dict[str, Any]:
    return await cloud.wait_for(
        f"{SERVERS}/{server_id}", who, "server", lambda s: s["status"] == status
    )


async def create_active(cloud: Cloud, who: Account, name: str, **extra: Any) -> str:
    server_id = await create(cloud, who, name, **extra)
    await wait_status(cloud, who, server_id, "ACTIVE")
    return server_id


async def test_create_answers_like_nova_and_the_server_goes_active(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    body = {
        "server": {
            "name": "web-1",
            "flavorRef": ids["tiny"],
            "imageRef": ids["image"],
            "networks": "auto",
            "metadata": {"role": "web"},
        }
    }
    answer = await cloud.request("POST", SERVERS, cloud.demo, json=body)
    assert answer.status == 202, answer
    created = answer.body["server"]
    assert {"id", "links", "adminPass", "OS-DCF:diskConfig", "security_groups"} <= set(created)
    assert answer.headers["Location"].endswith(f"/servers/{created['id']}")
    server = await wait_status(cloud, cloud.demo, created["id"], "ACTIVE")
    assert server["name"] == "web-1"
    assert server["metadata"] == {"role": "web"}
    assert server["image"]["id"] == ids["image"]
    assert server["flavor"] == {"id": ids["tiny"], "links": server["flavor"]["links"]}
    assert server["OS-EXT-STS:vm_state"] == "active"
    assert server["OS-EXT-STS:power_state"] == 1
    assert server["tenant_id"] == str(cloud.demo.project_id)
    assert len(server["hostId"]) == 56
    assert "OS-EXT-SRV-ATTR:host" not in server  # admin only
    assert "locked" not in server and "tags" not in server  # 2.9, 2.26


async def test_show_at_2_79_embeds_the_flavor_and_newer_fields(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "shape")
    answer = await cloud.request("GET", f"{SERVERS}/{server_id}", cloud.demo, headers=V279)
    assert answer.status == 200, answer
    assert answer.headers["OpenStack-API-Version"] == "compute 2.79"
    server = answer.body["server"]
    assert server["flavor"]["original_name"] == "m1.tiny"
    assert {"vcpus", "ram", "disk", "ephemeral", "swap", "extra_specs"} <= set(server["flavor"])
    assert server["locked"] is False
    assert server["tags"] == []
    assert server["description"] is None
    assert server["locked_reason"] is None
    assert server["os-extended-volumes:volumes_attached"] == []
    admin = await cloud.request("GET", f"{SERVERS}/{server_id}", cloud.admin, headers=V279)
    assert admin.body["server"]["OS-EXT-SRV-ATTR:host"].startswith("compute-")
    assert admin.body["server"]["host_status"] == "UP"


async def test_list_detail_and_name_regex_filter(cloud: Cloud) -> None:
    first = await create(cloud, cloud.demo, "alpha-1")
    second = await create(cloud, cloud.demo, "beta-1")
    listed = await cloud.request("GET", SERVERS, cloud.demo)
    assert listed.status == 200, listed
    assert {first, second} <= {s["id"] for s in listed.body["servers"]}
    assert set(listed.body["servers"][0]) == {"id", "name", "links"}
    regex = await cloud.request("GET", f"{SERVERS}/detail?name=^alp.*-1$", cloud.demo)
    assert [s["id"] for s in regex.body["servers"]] == [first]
    assert "status" in regex.body["servers"][0]
    bad = await cloud.request("GET", f"{SERVERS}/detail?name=(", cloud.demo)
    assert bad.status == 400, bad
    page = await cloud.request("GET", f"{SERVERS}?limit=1", cloud.demo)
    assert len(page.body["servers"]) == 1
    assert page.body["servers_links"][0]["rel"] == "next"
    nothing = await cloud.request("GET", f"{SERVERS}/detail?status=NOT_A_STATUS", cloud.demo)
    assert nothing.body["servers"] == []
    ids = await seeded(cloud)
    by_flavor = await cloud.request("GET", f"{SERVERS}?flavor={ids['tiny']}", cloud.demo)
    assert {first, second} <= {s["id"] for s in by_flavor.body["servers"]}
    other_flavor = await cloud.request("GET", f"{SERVERS}?flavor={ids['small']}", cloud.demo)
    assert not {first, second} & {s["id"] for s in other_flavor.body["servers"]}
    by_image = await cloud.request("GET", f"{SERVERS}?image=not-an-image", cloud.demo)
    assert by_image.body["servers"] == []
    since = await cloud.request("GET", f"{SERVERS}?changes-since=2000-01-01T00:00:00Z", cloud.demo)
    assert {first, second} <= {s["id"] for s in since.body["servers"]}
    bad_since = await cloud.request("GET", f"{SERVERS}?changes-since=yesterday", cloud.demo)
    assert bad_since.status == 400, bad_since


async def test_update_and_delete(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "old-name")
    update = {"server": {"name": "new-name", "description": "a web server"}}
    answer = await cloud.request(
        "PUT", f"{SERVERS}/{server_id}", cloud.demo, json=update, headers=V279
    )
    assert answer.status == 200, answer
    assert answer.body["server"]["name"] == "new-name"
    assert answer.body["server"]["description"] == "a web server"
    old = await cloud.request("PUT", f"{SERVERS}/{server_id}", cloud.demo, json=update)
    assert old.status == 400, old  # description needs 2.19
    gone = await cloud.request("DELETE", f"{SERVERS}/{server_id}", cloud.demo)
    assert gone.status == 204, gone
    await cloud.wait_for(f"{SERVERS}/{server_id}", cloud.demo, "server", None)


async def test_bad_input_is_400(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    cases = [
        {"name": "x", "flavorRef": "not-a-uuid", "imageRef": ids["image"]},
        {"flavorRef": ids["tiny"], "imageRef": ids["image"]},
        {"name": "x", "flavorRef": ids["tiny"], "imageRef": ids["image"], "min_count": -1},
        {"name": "x", "flavorRef": ids["image"], "imageRef": ids["image"]},
    ]
    for server in cases:
        answer = await cloud.request("POST", SERVERS, cloud.demo, json={"server": server})
        assert answer.status == 400, (server, answer)
        assert "badRequest" in answer.body
    missing = await cloud.request("GET", f"{SERVERS}/not-a-server", cloud.demo)
    assert missing.status == 404
    assert "itemNotFound" in missing.body


async def test_unsupported_microversion_is_406(cloud: Cloud) -> None:
    answer = await cloud.request(
        "GET", SERVERS, cloud.demo, headers={"OpenStack-API-Version": "compute 2.80"}
    )
    assert answer.status == 406, answer


async def test_quota_exceeded_is_403(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    account = await cloud.new_account()
    server = {"name": "many", "flavorRef": ids["tiny"], "imageRef": ids["image"]}
    server["min_count"] = server["max_count"] = 1000  # type: ignore[assignment]
    answer = await cloud.request("POST", SERVERS, account, json={"server": server})
    assert answer.status == 403, answer
    assert answer.body["forbidden"]["message"].startswith("Quota exceeded for ")


async def test_a_reader_cannot_create(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    reader = await cloud.new_account(role="reader")
    server = {"name": "x", "flavorRef": ids["tiny"], "imageRef": ids["image"]}
    answer = await cloud.request("POST", SERVERS, reader, json={"server": server})
    assert answer.status == 403, answer
    assert (await cloud.request("GET", SERVERS, reader)).status == 200


async def test_a_failed_build_shows_its_fault(cloud: Cloud) -> None:
    for agent in cloud.agents.values():
        if agent.drivers.hypervisor is not None:
            agent.drivers.hypervisor.faults.fail_next(  # type: ignore[attr-defined]
                "spawn", DriverError("bad image", retryable=False)
            )
    server_id = await create(cloud, cloud.demo, "doomed")
    server = await wait_status(cloud, cloud.demo, server_id, "ERROR")
    assert server["fault"]["code"] >= 400
    assert "bad image" in server["fault"]["message"]
    assert server["fault"]["created"].endswith("Z")
    assert "details" not in server["fault"]
    errored = await cloud.request("GET", f"{SERVERS}/detail?status=ERROR", cloud.demo)
    assert [s["id"] for s in errored.body["servers"]] == [server_id]
