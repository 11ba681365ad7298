"""Block Storage v3 through the gateway: create (empty and from an image), list,
show, update, extend, delete; delete refused while attached; quotas, limits and the
413 of an exceeded quota; isolation between projects; readers cannot write."""

from __future__ import annotations

from typing import Any

from node_agent.drivers.errors import TransientError
from tests.functional.gateway.cloud import Account, Cloud

VOLUMES = "/volume/v3/volumes"
SERVERS = "/compute/v2.1/servers"


async def create(cloud: Cloud, who: Account, **fields: Any) -> dict[str, Any]:
    body = {"volume": {"size": 1, "name": "v", **fields}}
    answer = await cloud.request("POST", VOLUMES, who, json=body)
    assert answer.status == 202, answer
    return dict(answer.body["volume"])


async def available(cloud: Cloud, who: Account, volume_id: str, status: str = "available") -> Any:
    return await cloud.wait_for(
        f"{VOLUMES}/{volume_id}", who, "volume", lambda v: v["status"] == status
    )


async def test_create_show_list_update_extend_delete(cloud: Cloud) -> None:
    account = await cloud.new_account()
    made = await create(cloud, account, name="data", metadata={"tier": "gold"})
    assert made["status"] == "creating" and made["size"] == 1
    assert made["attachments"] == [] and made["bootable"] == "false"
    assert made["os-vol-tenant-attr:tenant_id"] == str(account.project_id)
    volume = await available(cloud, account, made["id"])
    assert volume["volume_type"] == "__DEFAULT__" and volume["metadata"] == {"tier": "gold"}

    summary = await cloud.request("GET", VOLUMES, account)
    assert summary.body["volumes"] == [
        {"id": made["id"], "name": "data", "links": summary.body["volumes"][0]["links"]}
    ]
    by_name = await cloud.request("GET", f"{VOLUMES}/detail?name=data", account)
    assert [v["id"] for v in by_name.body["volumes"]] == [made["id"]]
    none = await cloud.request("GET", f"{VOLUMES}/detail?name=other", account)
    assert none.body["volumes"] == []
    assert (await cloud.request("GET", f"{VOLUMES}/data", account)).status == 404

    renamed = await cloud.request(
        "PUT", f"{VOLUMES}/{made['id']}", account, json={"volume": {"name": "renamed"}}
    )
    assert renamed.status == 200 and renamed.body["volume"]["name"] == "renamed"

    extend = {"os-extend": {"new_size": 3}}
    action = await cloud.request("POST", f"{VOLUMES}/{made['id']}/action", account, json=extend)
    assert action.status == 202, action
    grown = await cloud.wait_for(
        f"{VOLUMES}/{made['id']}", account, "volume", lambda v: v["size"] == 3
    )
    assert grown["status"] == "available"
    usage = await cloud.request(
        "GET", f"/volume/v3/os-quota-sets/{account.project_id}?usage=True", account
    )
    assert usage.body["quota_set"]["gigabytes"]["in_use"] == 3
    shrink = {"os-extend": {"new_size": 2}}
    refused = await cloud.request("POST", f"{VOLUMES}/{made['id']}/action", account, json=shrink)
    assert refused.status == 400, refused
    assert "badRequest" in refused.body

    deleted = await cloud.request("DELETE", f"{VOLUMES}/{made['id']}", account)
    assert deleted.status == 202, deleted
    await cloud.wait_for(f"{VOLUMES}/{made['id']}", account, "volume", None)
    limits = await cloud.request("GET", "/volume/v3/limits", account)
    absolute = limits.body["limits"]["absolute"]
    assert absolute["totalVolumesUsed"] == 0 and absolute["totalGigabytesUsed"] == 0


async def test_create_from_an_image_is_bootable(cloud: Cloud) -> None:
    listed = await cloud.request("GET", "/image/v2/images?name=busybox", cloud.demo)
    image_id = listed.body["images"][0]["id"]
    made = await create(cloud, cloud.demo, name="boot", imageRef=image_id)
    volume = await available(cloud, cloud.demo, made["id"])
    assert volume["bootable"] == "true"
    assert volume["volume_image_metadata"]["image_id"] == image_id
    queued = await cloud.request(
        "POST", "/image/v2/images", cloud.demo, json={"name": "empty", "disk_format": "raw"}
    )
    not_active = await cloud.request(
        "POST", VOLUMES, cloud.demo, json={"volume": {"size": 1, "imageRef": queued.body["id"]}}
    )
    assert not_active.status == 400, not_active


async def test_bad_input_is_400_and_quota_is_413(cloud: Cloud) -> None:
    account = await cloud.new_account()
    for volume in (
        {"size": 0},
        {"size": "big"},
        {"name": "no size"},
        {"size": 1, "snapshot_id": "x"},
    ):
        answer = await cloud.request("POST", VOLUMES, account, json={"volume": volume})
        assert answer.status == 400, (volume, answer)
    no_type = await cloud.request(
        "POST", VOLUMES, account, json={"volume": {"size": 1, "volume_type": "gold"}}
    )
    assert no_type.status == 404
    over = await cloud.request("POST", VOLUMES, account, json={"volume": {"size": 5000}})
    assert over.status == 413, over
    assert "VolumeSizeExceedsAvailableQuota" in over.body["overLimit"]["message"]

    quota = {"quota_set": {"volumes": 1}}
    path = f"/volume/v3/os-quota-sets/{account.project_id}"
    assert (await cloud.request("PUT", path, account, json=quota)).status == 403
    admin_set = await cloud.request("PUT", path, cloud.admin, json=quota)
    assert admin_set.status == 200 and admin_set.body["quota_set"]["volumes"] == 1
    await create(cloud, account)
    second = await cloud.request("POST", VOLUMES, account, json={"volume": {"size": 1}})
    assert second.status == 413, second
    defaults = await cloud.request("GET", f"{path}/defaults", account)
    assert defaults.body["quota_set"]["volumes"] == 10
    types = await cloud.request("GET", "/volume/v3/types", account)
    assert [t["name"] for t in types.body["volume_types"]] == ["__DEFAULT__"]


async def test_delete_is_refused_while_attached(cloud: Cloud) -> None:
    made = await create(cloud, cloud.demo, name="attached")
    await available(cloud, cloud.demo, made["id"])
    images = await cloud.request("GET", "/image/v2/images?name=busybox", cloud.demo)
    flavors = await cloud.request("GET", "/compute/v2.1/flavors", cloud.demo)
    flavor = next(f["id"] for f in flavors.body["flavors"] if f["name"] == "m1.tiny")
    server = {"name": "holder", "flavorRef": flavor, "imageRef": images.body["images"][0]["id"]}
    booted = await cloud.request("POST", SERVERS, cloud.demo, json={"server": server})
    assert booted.status == 202, booted
    server_id = booted.body["server"]["id"]
    await cloud.wait_for(
        f"{SERVERS}/{server_id}", cloud.demo, "server", lambda s: s["status"] == "ACTIVE"
    )
    attach = {"volumeAttachment": {"volumeId": made["id"]}}
    answer = await cloud.request(
        "POST", f"{SERVERS}/{server_id}/os-volume_attachments", cloud.demo, json=attach
    )
    assert answer.status == 200, answer
    in_use = await available(cloud, cloud.demo, made["id"], "in-use")
    assert [a["server_id"] for a in in_use["attachments"]] == [server_id]
    refused = await cloud.request("DELETE", f"{VOLUMES}/{made['id']}", cloud.demo)
    assert refused.status == 400, refused
    assert refused.body["badRequest"]["message"].startswith("Invalid volume: Volume status must")


async def test_other_projects_cannot_see_or_touch_volumes(cloud: Cloud) -> None:
    made = await create(cloud, cloud.demo, name="private-data")
    await available(cloud, cloud.demo, made["id"])
    other = await cloud.new_account()
    path = f"{VOLUMES}/{made['id']}"
    listed = await cloud.request("GET", f"{VOLUMES}/detail", other)
    assert made["id"] not in [v["id"] for v in listed.body["volumes"]]
    everything = await cloud.request("GET", f"{VOLUMES}/detail?all_tenants=1", other)
    assert made["id"] not in [v["id"] for v in everything.body["volumes"]]
    assert (await cloud.request("GET", path, other)).status == 404
    update = await cloud.request("PUT", path, other, json={"volume": {"name": "mine"}})
    assert update.status == 404
    extend = await cloud.request(
        "POST", f"{path}/action", other, json={"os-extend": {"new_size": 2}}
    )
    assert extend.status == 404
    assert (await cloud.request("DELETE", path, other)).status == 404
    quotas = await cloud.request("GET", f"/volume/v3/os-quota-sets/{cloud.demo.project_id}", other)
    assert quotas.status == 403
    admin = await cloud.request("GET", f"{VOLUMES}/detail?all_tenants=1", cloud.admin)
    assert made["id"] in [v["id"] for v in admin.body["volumes"]]
    assert (await cloud.request("GET", path, cloud.demo)).body["volume"]["name"] == "private-data"


async def test_reader_cannot_write_volumes(cloud: Cloud) -> None:
    reader = await cloud.new_account(role="reader")
    answer = await cloud.request("POST", VOLUMES, reader, json={"volume": {"size": 1}})
    assert answer.status == 403, answer
    assert (await cloud.request("GET", f"{VOLUMES}/detail", reader)).status == 200


async def test_reset_status_is_for_admins(cloud: Cloud) -> None:
    made = await create(cloud, cloud.demo, name="stuck")
    await available(cloud, cloud.demo, made["id"])
    reset = {"os-reset_status": {"status": "error"}}
    path = f"{VOLUMES}/{made['id']}/action"
    assert (await cloud.request("POST", path, cloud.demo, json=reset)).status == 403
    assert (await cloud.request("POST", path, cloud.admin, json=reset)).status == 202
    await available(cloud, cloud.demo, made["id"], "error")
    unknown = await cloud.request("POST", path, cloud.demo, json={"os-frobnicate": {}})
    assert unknown.status == 400


async def test_microversions_shape_the_answer(cloud: Cloud) -> None:
    made = await create(cloud, cloud.demo, name="versions")
    path = f"{VOLUMES}/{made['id']}"
    base = await cloud.request("GET", path, cloud.demo)
    assert "group_id" not in base.body["volume"]
    assert base.headers["OpenStack-API-Version"] == "volume 3.0"
    newest = await cloud.request(
        "GET", path, cloud.demo, headers={"OpenStack-API-Version": "volume 3.60"}
    )
    assert newest.headers["OpenStack-API-Version"] == "volume 3.60"
    assert {"group_id", "shared_targets", "service_uuid"} <= set(newest.body["volume"])
    too_new = await cloud.request(
        "GET", path, cloud.demo, headers={"OpenStack-API-Version": "volume 3.99"}
    )
    assert too_new.status == 406


async def test_a_failed_extend_is_error_extending_and_gives_the_gigabytes_back(
    cloud: Cloud,
) -> None:
    account = await cloud.new_account()
    made = await create(cloud, account, name="fragile")
    await available(cloud, account, made["id"])
    storage = cloud.agents["storage-1"].drivers.storage
    storage.faults.fail_next("resize_volume", TransientError("rbd: no space"))  # type: ignore[union-attr]
    extend = {"os-extend": {"new_size": 4}}
    action = await cloud.request("POST", f"{VOLUMES}/{made['id']}/action", account, json=extend)
    assert action.status == 202, action
    failed = await available(cloud, account, made["id"], "error_extending")
    assert failed["size"] == 1
    usage = await cloud.request(
        "GET", f"/volume/v3/os-quota-sets/{account.project_id}?usage=True", account
    )
    assert usage.body["quota_set"]["gigabytes"]["in_use"] == 1
