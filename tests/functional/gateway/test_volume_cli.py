"""The real `openstack` CLI (openstacksdk underneath) drives Block Storage v3 and Image
v2 against the in-process cloud as demo: volume create/list/show/set --size/delete,
image create --file/list/show/delete."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from tests.functional.gateway.cli import cli_as
from tests.functional.gateway.cloud import Cloud

openstack, as_json = cli_as("demo")


async def until(cloud: Cloud, volume_id: str, done: Any) -> None:
    """Wait through the API (cheaper than a CLI process per poll)."""
    await cloud.wait_for(f"/volume/v3/volumes/{volume_id}", cloud.demo, "volume", done, 30)


async def test_openstack_cli_volumes_and_images(cloud: Cloud, tmp_path: Path) -> None:
    created = await as_json(cloud, "volume", "create", "--size", "1", "v1")
    assert created["name"] == "v1" and created["size"] == 1
    listed = await as_json(cloud, "volume", "list")
    assert [row["Name"] for row in listed] == ["v1"]
    await until(cloud, created["id"], lambda v: v["status"] == "available")
    await openstack(cloud, "volume", "set", "--size", "2", "v1")
    await until(cloud, created["id"], lambda v: v["size"] == 2 and v["status"] == "available")
    shown = await as_json(cloud, "volume", "show", "v1")
    assert (shown["id"], shown["size"], shown["status"]) == (created["id"], 2, "available")

    data = os.urandom(2 << 20)
    source = tmp_path / "disk.raw"
    source.write_bytes(data)
    image = await as_json(
        cloud, "image", "create", "--file", str(source), "--disk-format", "raw", "cli-image"
    )
    assert image["name"] == "cli-image"
    images = await as_json(cloud, "image", "list")
    assert {"cli-image", "busybox"} <= {row["Name"] for row in images}
    image_shown = await as_json(cloud, "image", "show", "cli-image")
    assert image_shown["status"] == "active"
    assert image_shown["checksum"] == hashlib.md5(data).hexdigest()
    assert image_shown["size"] == len(data)
    await openstack(cloud, "image", "delete", "cli-image")
    gone = await cloud.request("GET", "/image/v2/images?name=cli-image", cloud.demo)
    assert gone.body["images"] == []

    await openstack(cloud, "volume", "delete", "v1")
    await until(cloud, created["id"], None)
