"""Boot from volume (block device mapping v2): from an existing volume and from an image
made into a volume, with a data volume beside; the volumes in-use while the server
lives, `image` "" for such a server, delete_on_termination honoured when it goes."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cloud import Account, Cloud
from tests.functional.gateway.test_server_boot_ports import delete_server, usage
from tests.functional.gateway.test_servers import SERVERS, seeded, wait_status
from tests.functional.gateway.test_volume import VOLUMES, available, create


async def boot_from(cloud: Cloud, who: Account, name: str, mappings: list[dict[str, Any]]) -> Any:
    ids = await seeded(cloud)
    body = {
        "server": {
            "name": name,
            "flavorRef": ids["tiny"],
            "networks": "none",
            "block_device_mapping_v2": mappings,
        }
    }
    return await cloud.request("POST", SERVERS, who, json=body)


def volume_bdm(volume_id: str, boot_index: int | None, delete: bool) -> dict[str, Any]:
    return {
        "boot_index": boot_index,
        "uuid": volume_id,
        "source_type": "volume",
        "destination_type": "volume",
        "delete_on_termination": delete,
    }


async def attachments(cloud: Cloud, who: Account, server_id: str) -> dict[str, str]:
    """{volume id: device} of the server's volume attachments."""
    answer = await cloud.request("GET", f"{SERVERS}/{server_id}/os-volume_attachments", who)
    assert answer.status == 200, answer
    return {a["volumeId"]: a["device"] for a in answer.body["volumeAttachments"]}


async def test_boot_from_an_existing_volume_with_a_data_volume(cloud: Cloud) -> None:
    account = await cloud.new_account()
    root = await create(cloud, account, name="root")
    data = await create(cloud, account, name="data")
    for volume in (root, data):
        await available(cloud, account, volume["id"])
    answer = await boot_from(
        cloud,
        account,
        "bfv",
        [volume_bdm(root["id"], 0, False), volume_bdm(data["id"], None, True)],
    )
    assert answer.status == 202, answer
    server_id = answer.body["server"]["id"]
    server = await wait_status(cloud, account, server_id, "ACTIVE")
    assert server["image"] == ""
    for volume in (root, data):
        shown = await available(cloud, account, volume["id"], "in-use")
        assert [a["server_id"] for a in shown["attachments"]] == [server_id]
    assert await attachments(cloud, account, server_id) == {
        root["id"]: "/dev/vda",
        data["id"]: "/dev/vdb",
    }
    taken = await boot_from(cloud, account, "bfv-2", [volume_bdm(root["id"], 0, False)])
    assert taken.status == 400, taken

    await delete_server(cloud, account, server_id)
    kept = await available(cloud, account, root["id"])
    assert kept["attachments"] == []
    await cloud.wait_for(f"{VOLUMES}/{data['id']}", account, "volume", None)  # deleted


async def test_boot_from_an_image_made_into_a_volume(cloud: Cloud) -> None:
    account = await cloud.new_account()
    ids = await seeded(cloud)
    before = await usage(cloud, account)
    image_bdm = {
        "boot_index": 0,
        "uuid": ids["image"],
        "source_type": "image",
        "destination_type": "volume",
        "volume_size": 1,
        "delete_on_termination": True,
    }
    answer = await boot_from(cloud, account, "bfi", [image_bdm])
    assert answer.status == 202, answer
    server_id = answer.body["server"]["id"]
    server = await wait_status(cloud, account, server_id, "ACTIVE")
    assert server["image"] == ""
    (volume_id,) = await attachments(cloud, account, server_id)
    volume = await available(cloud, account, volume_id, "in-use")
    assert volume["bootable"] == "true" and volume["size"] == 1
    charged = await usage(cloud, account)
    assert charged["volumes"] == before.get("volumes", 0) + 1
    assert charged["gigabytes"] == before.get("gigabytes", 0) + 1

    await delete_server(cloud, account, server_id)
    await cloud.wait_for(f"{VOLUMES}/{volume_id}", account, "volume", None)
    after = await usage(cloud, account)
    assert after["volumes"] == before.get("volumes", 0)
    assert after["gigabytes"] == before.get("gigabytes", 0)


async def test_a_volume_that_is_not_available_refuses_the_create(cloud: Cloud) -> None:
    account = await cloud.new_account()
    missing = await boot_from(
        cloud,
        account,
        "bfv-missing",
        [volume_bdm("8d1b1b8e-3f7e-4f40-9a55-0c0b6c6b0f10", 0, False)],
    )
    assert missing.status == 400, missing
    listed = await cloud.request("GET", f"{SERVERS}/detail", account)
    assert listed.body["servers"] == []
