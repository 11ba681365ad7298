"""The image API's parts without a cloud: the local image store (streamed put with
checksums, size cap, atomic rename, read, delete), the JSON patch translation and
the list view's `next` link."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from gateway.errors import HttpError
from gateway.image_patch import changes
from gateway.image_store import ImageTooLarge, LocalImageStore
from gateway.image_views import image_list_view, image_view
from schemas.messages.conductor_storage_api import StoredImage


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_put_streams_measures_and_renames(tmp_path: Path) -> None:
    store = LocalImageStore(tmp_path)
    image_id = uuid4()
    stored = await store.put(image_id, pieces(b"abc", b"def"), limit=6)
    assert stored.location == str(store.directory / str(image_id))
    assert stored.size == 6
    assert stored.checksum == hashlib.md5(b"abcdef").hexdigest()
    assert stored.os_hash_value == hashlib.sha512(b"abcdef").hexdigest()
    assert names(tmp_path) == [str(image_id)]
    assert b"".join([chunk async for chunk in store.read(stored.location)]) == b"abcdef"
    assert await store.size_of(stored.location) == 6
    await store.delete(stored.location)
    assert names(tmp_path) == []


async def test_put_over_the_cap_keeps_nothing(tmp_path: Path) -> None:
    store = LocalImageStore(tmp_path)
    with pytest.raises(ImageTooLarge):
        await store.put(uuid4(), pieces(b"abc", b"defg"), limit=6)
    assert names(tmp_path) == []


async def test_store_refuses_paths_outside_it(tmp_path: Path) -> None:
    store = LocalImageStore(tmp_path / "images")
    assert not store.owns("/etc/passwd")
    assert not store.owns(str(tmp_path / "images" / ".." / "secret"))
    assert store.owns(f"file://{tmp_path}/images/abc")
    with pytest.raises(FileNotFoundError):
        await store.size_of("/etc/passwd")


def test_patch_becomes_one_update() -> None:
    update = changes(
        [
            {"op": "replace", "path": "/name", "value": "n"},
            {"op": "add", "path": "/os~1distro", "value": "cirros"},
            {"op": "remove", "path": "/old"},
            {"op": "add", "path": "/locations/-", "value": {"url": "file:///srv/images/x"}},
        ]
    )
    assert update == {
        "name": "n",
        "set_properties": {"os/distro": "cirros"},
        "remove_properties": ["old"],
        "location": "/srv/images/x",
    }


@pytest.mark.parametrize(
    ("op", "status"),
    [
        ({"op": "replace", "path": "/size", "value": 1}, 403),
        ({"op": "remove", "path": "/name"}, 403),
        ({"op": "move", "path": "/name", "value": "x"}, 400),
        ({"op": "add", "path": "/prop", "value": 5}, 400),
        ({"op": "add", "path": "/locations/-", "value": {"url": "http://x/y"}}, 400),
        ({"op": "add", "path": "nope", "value": "x"}, 400),
    ],
)
def test_patch_refusals(op: dict[str, object], status: int) -> None:
    with pytest.raises(HttpError) as caught:
        changes([op])
    assert caught.value.status == status


def test_views_follow_glance() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    image = StoredImage(id=uuid4(), properties={"a": "b"}, created_at=now, location="/x")
    body = image_view(image)
    assert body["name"] is None and body["a"] == "b" and "location" not in body
    assert body["created_at"] == "2026-01-02T03:04:05Z"
    assert body["self"] == f"/v2/images/{image.id}"
    page = image_list_view((image,), True, {"limit": "1", "marker": "old"})
    assert page["next"] == f"/v2/images?limit=1&marker={image.id}"
    assert "next" not in image_list_view((image,), False, {})
