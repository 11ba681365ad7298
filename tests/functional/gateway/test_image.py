"""Image v2 through the gateway: create, streamed upload and download with matching
checksums, list filters (incl. Glance's id=in:), patch, tags, delete; visibility
across projects; readers cannot write."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.gateway.cloud import Account, Cloud, running_cloud

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}
MB = 1 << 20


async def create(cloud: Cloud, who: Account, **fields: Any) -> dict[str, Any]:
    body = {"name": "img", "disk_format": "raw", "container_format": "bare", **fields}
    answer = await cloud.request("POST", "/image/v2/images", who, json=body)
    assert answer.status == 201, answer
    return dict(answer.body)


async def chunks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_upload_download_round_trip_with_checksums(cloud: Cloud) -> None:
    image = await create(cloud, cloud.demo, name="blob", hw_disk_bus="virtio", tags=["a"])
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["hw_disk_bus"] == "virtio" and image["tags"] == ["a"]
    assert image["owner"] == str(cloud.demo.project_id)
    data = os.urandom(3 * MB + 12345)
    path = f"/image/v2/images/{image['id']}/file"
    put = await cloud.request("PUT", path, cloud.demo, data=chunks(data), headers=OCTETS)
    assert put.status == 204, put

    shown = await cloud.request("GET", f"/image/v2/images/{image['id']}", cloud.demo)
    assert shown.status == 200, shown
    assert shown.body["status"] == "active"
    assert shown.body["size"] == len(data)
    assert shown.body["checksum"] == hashlib.md5(data).hexdigest()
    assert shown.body["os_hash_algo"] == "sha512"
    assert shown.body["os_hash_value"] == hashlib.sha512(data).hexdigest()
    stored = Path(cloud.settings.home) / "images" / image["id"]
    assert stored.stat().st_size == len(data)  # in the directory the conductor uses

    async with cloud.http.get(cloud.url + path, headers=cloud.demo.headers) as response:
        assert response.status == 200
        assert response.headers["Content-MD5"] == hashlib.md5(data).hexdigest()
        got = await response.read()
    assert got == data

    again = await cloud.request("PUT", path, cloud.demo, data=b"x", headers=OCTETS)
    assert again.status == 409, again  # active images take no more data

    deleted = await cloud.request("DELETE", f"/image/v2/images/{image['id']}", cloud.demo)
    assert deleted.status == 204, deleted
    assert not stored.exists()
    gone = await cloud.request("GET", f"/image/v2/images/{image['id']}", cloud.demo)
    assert gone.status == 404


async def test_list_filters_and_pages(cloud: Cloud) -> None:
    account = await cloud.new_account()
    made = [await create(cloud, account, name=f"pick-{n}") for n in range(3)]
    ids = [m["id"] for m in made]
    listed = await cloud.request("GET", "/image/v2/images?name=pick-1", account)
    assert [i["id"] for i in listed.body["images"]] == [ids[1]]
    assert listed.body["schema"] == "/v2/schemas/images"
    chosen = await cloud.request("GET", f"/image/v2/images?id=in:{ids[0]},{ids[2]}", account)
    assert sorted(i["id"] for i in chosen.body["images"]) == sorted([ids[0], ids[2]])
    public = await cloud.request("GET", "/image/v2/images?visibility=public", account)
    assert [i["name"] for i in public.body["images"]] == ["busybox"]

    first = await cloud.request(
        "GET", "/image/v2/images?limit=2&sort_key=name&sort_dir=asc", account
    )
    assert [i["name"] for i in first.body["images"]] == ["busybox", "pick-0"]
    following = first.body["next"]
    assert following.startswith("/v2/images?")
    second = await cloud.request("GET", "/image" + following, account)
    assert [i["name"] for i in second.body["images"]] == ["pick-1", "pick-2"]
    assert "next" not in second.body

    bad = await cloud.request("GET", "/image/v2/images?id=in:nope", account)
    assert bad.status == 400, bad
    assert (await cloud.request("GET", "/image/v2/images/pick-1", account)).status == 404


async def test_patch_properties_tags_and_protection(cloud: Cloud) -> None:
    image = await create(cloud, cloud.demo, name="patchme")
    path = f"/image/v2/images/{image['id']}"
    ops = [
        {"op": "replace", "path": "/name", "value": "patched"},
        {"op": "add", "path": "/os_distro", "value": "cirros"},
        {"op": "replace", "path": "/min_ram", "value": 64},
        {"op": "replace", "path": "/protected", "value": True},
        {"op": "replace", "path": "/visibility", "value": "private"},
    ]
    patched = await cloud.request("PATCH", path, cloud.demo, json=ops, headers=PATCH)
    assert patched.status == 200, patched
    body = patched.body
    assert (body["name"], body["os_distro"], body["min_ram"]) == ("patched", "cirros", 64)
    assert body["protected"] is True and body["visibility"] == "private"

    removed = await cloud.request(
        "PATCH", path, cloud.demo, json=[{"op": "remove", "path": "/os_distro"}], headers=PATCH
    )
    assert "os_distro" not in removed.body
    read_only = [{"op": "replace", "path": "/status", "value": "active"}]
    refused = await cloud.request("PATCH", path, cloud.demo, json=read_only, headers=PATCH)
    assert refused.status == 403, refused
    wrong_type = await cloud.request("PATCH", path, cloud.demo, json=ops)
    assert wrong_type.status == 415, wrong_type
    publish = [{"op": "replace", "path": "/visibility", "value": "public"}]
    assert (
        await cloud.request("PATCH", path, cloud.demo, json=publish, headers=PATCH)
    ).status == 403

    assert (await cloud.request("PUT", f"{path}/tags/gold", cloud.demo)).status == 204
    tagged = await cloud.request("GET", "/image/v2/images?tag=gold", cloud.demo)
    assert [i["id"] for i in tagged.body["images"]] == [image["id"]]
    assert (await cloud.request("DELETE", f"{path}/tags/gold", cloud.demo)).status == 204
    assert (await cloud.request("DELETE", f"{path}/tags/gold", cloud.demo)).status == 404

    protected = await cloud.request("DELETE", path, cloud.demo)
    assert protected.status == 403, protected
    unprotect = [{"op": "replace", "path": "/protected", "value": False}]
    await cloud.request("PATCH", path, cloud.demo, json=unprotect, headers=PATCH)
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204


async def test_create_refuses_bad_input(cloud: Cloud) -> None:
    for body in (
        {"name": "x", "disk_format": "floppy"},
        {"name": "x", "min_disk": -1},
        {"name": "x", "custom": 5},
        {"name": "x", "id": "not-a-uuid"},
    ):
        answer = await cloud.request("POST", "/image/v2/images", cloud.demo, json=body)
        assert answer.status == 400, (body, answer)
        assert "error" in answer.body
    read_only = await cloud.request("POST", "/image/v2/images", cloud.demo, json={"size": 5})
    assert read_only.status == 403
    public = await cloud.request(
        "POST", "/image/v2/images", cloud.demo, json={"name": "p", "visibility": "public"}
    )
    assert public.status == 403
    admin_public = await create(cloud, cloud.admin, name="p", visibility="public")
    seen = await cloud.request("GET", f"/image/v2/images/{admin_public['id']}", cloud.demo)
    assert seen.status == 200  # public images are everyone's


async def test_upload_needs_formats_and_octets(cloud: Cloud) -> None:
    bare = await cloud.request("POST", "/image/v2/images", cloud.demo, json={"name": "noformat"})
    path = f"/image/v2/images/{bare.body['id']}/file"
    answer = await cloud.request("PUT", path, cloud.demo, data=b"abc", headers=OCTETS)
    assert answer.status == 400, answer
    image = await create(cloud, cloud.demo)
    path = f"/image/v2/images/{image['id']}/file"
    json_body = await cloud.request("PUT", path, cloud.demo, json={"a": 1})
    assert json_body.status == 415
    empty = await cloud.request("GET", path, cloud.demo)
    assert empty.status == 204  # no data yet


async def test_other_projects_cannot_see_or_touch_private_images(cloud: Cloud) -> None:
    image = await create(cloud, cloud.demo, name="secret", visibility="private")
    shared = await create(cloud, cloud.demo, name="shared-with-nobody")
    path = f"/image/v2/images/{image['id']}"
    other = await cloud.new_account()
    assert (await cloud.request("GET", f"/image/v2/images/{shared['id']}", other)).status == 404
    listed = await cloud.request("GET", "/image/v2/images", other)
    assert image["id"] not in [i["id"] for i in listed.body["images"]]
    by_id = await cloud.request("GET", f"/image/v2/images?id=in:{image['id']}", other)
    assert by_id.body["images"] == []
    assert (await cloud.request("GET", path, other)).status == 404
    assert (await cloud.request("GET", f"{path}/file", other)).status == 404
    rename = [{"op": "replace", "path": "/name", "value": "mine"}]
    assert (await cloud.request("PATCH", path, other, json=rename, headers=PATCH)).status == 404
    upload = await cloud.request("PUT", f"{path}/file", other, data=b"x", headers=OCTETS)
    assert upload.status == 404
    assert (await cloud.request("DELETE", path, other)).status == 404
    assert (await cloud.request("PUT", f"{path}/tags/t", other)).status == 404

    listed = await cloud.request("GET", "/image/v2/images?name=busybox", other)
    busybox = listed.body["images"][0]
    patch = await cloud.request(
        "PATCH", f"/image/v2/images/{busybox['id']}", other, json=rename, headers=PATCH
    )
    assert patch.status == 403  # visible (public) but not theirs
    assert (await cloud.request("DELETE", f"/image/v2/images/{busybox['id']}", other)).status == 403
    still = await cloud.request("GET", path, cloud.demo)
    assert still.body["name"] == "secret"


async def test_reader_cannot_write_images(cloud: Cloud) -> None:
    reader = await cloud.new_account(role="reader")
    answer = await cloud.request("POST", "/image/v2/images", reader, json={"name": "r"})
    assert answer.status == 403, answer
    assert (await cloud.request("GET", "/image/v2/images", reader)).status == 200


@pytest.fixture
async def capped_cloud(
    cloud_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cloud]:
    """A cloud whose gateway takes images of at most 1 MiB."""
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    monkeypatch.setenv("SKYMESH_GATEWAY__IMAGE_SIZE_CAP", str(MB))
    async with running_cloud(cloud_dsn, tmp_path) as running:
        yield running


async def test_upload_over_the_size_cap_is_413_and_keeps_nothing(capped_cloud: Cloud) -> None:
    cloud = capped_cloud
    image = await create(cloud, cloud.demo, name="big")
    path = f"/image/v2/images/{image['id']}/file"
    declared = await cloud.request("PUT", path, cloud.demo, data=b"x" * (MB + 1), headers=OCTETS)
    assert declared.status == 413, declared
    assert "overLimit" not in declared.body and declared.body["error"]["code"] == 413
    streamed = await cloud.request(
        "PUT", path, cloud.demo, data=chunks(b"y" * (MB + 64 * 1024)), headers=OCTETS
    )
    assert streamed.status == 413, streamed
    shown = await cloud.request("GET", f"/image/v2/images/{image['id']}", cloud.demo)
    assert shown.body["status"] == "queued" and shown.body["size"] is None
    leftovers = list((Path(cloud.settings.home) / "images").glob(f"*{image['id']}*"))
    assert leftovers == []
    fits = await cloud.request("PUT", path, cloud.demo, data=chunks(b"z" * MB), headers=OCTETS)
    assert fits.status == 204, fits


async def test_a_server_boots_from_an_uploaded_image(cloud: Cloud) -> None:
    image = await create(cloud, cloud.demo, name="bootable")
    path = f"/image/v2/images/{image['id']}/file"
    put = await cloud.request("PUT", path, cloud.demo, data=b"\0" * MB, headers=OCTETS)
    assert put.status == 204, put
    flavors = await cloud.request("GET", "/compute/v2.1/flavors", cloud.demo)
    flavor = next(f["id"] for f in flavors.body["flavors"] if f["name"] == "m1.tiny")
    server = {"name": "from-upload", "flavorRef": flavor, "imageRef": image["id"]}
    booted = await cloud.request(
        "POST", "/compute/v2.1/servers", cloud.demo, json={"server": server}
    )
    assert booted.status == 202, booted
    shown = await cloud.wait_for(
        f"/compute/v2.1/servers/{booted.body['server']['id']}",
        cloud.demo,
        "server",
        lambda s: s["status"] == "ACTIVE",
    )
    assert shown["image"]["id"] == image["id"]


async def test_admin_registers_a_location_in_the_store(cloud: Cloud) -> None:
    image = await create(cloud, cloud.admin, name="located")
    data = b"already here\n" * 1000
    stored = Path(cloud.settings.home) / "images" / f"located-{image['id']}.raw"
    await asyncio.to_thread(stored.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(stored.write_bytes, data)
    path = f"/image/v2/images/{image['id']}"
    add = [{"op": "add", "path": "/locations/-", "value": {"url": f"file://{stored}"}}]
    member = await create(cloud, cloud.demo, name="not-admin")
    refused = await cloud.request(
        "PATCH", f"/image/v2/images/{member['id']}", cloud.demo, json=add, headers=PATCH
    )
    assert refused.status == 403, refused
    outside = [{"op": "add", "path": "/locations/-", "value": {"url": "file:///etc/passwd"}}]
    bad = await cloud.request("PATCH", path, cloud.admin, json=outside, headers=PATCH)
    assert bad.status == 400, bad
    located = await cloud.request("PATCH", path, cloud.admin, json=add, headers=PATCH)
    assert located.status == 200, located
    assert located.body["status"] == "active" and located.body["size"] == len(data)
    async with cloud.http.get(cloud.url + f"{path}/file", headers=cloud.admin.headers) as response:
        assert await response.read() == data
