"""Flavors, images, identity and tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from hashlib import sha256

import asyncpg
import db_factories as make
import pytest

from conductor.db.queries import flavors, identity, images, tokens

pytestmark = pytest.mark.functional


async def test_flavor_extra_specs_and_private_access(conn: asyncpg.Connection) -> None:
    project, other = await make.project(conn), await make.project(conn)
    public = await flavors.create_flavor(
        conn,
        make.unique("m1"),
        vcpus=2,
        memory_mb=2048,
        disk_gb=20,
        extra_specs={"hw:cpu_policy": "dedicated"},
    )
    private = await flavors.create_flavor(
        conn, make.unique("gpu"), vcpus=8, memory_mb=65536, is_public=False
    )
    await flavors.add_access(conn, private["id"], project)

    assert public["extra_specs"] == {"hw:cpu_policy": "dedicated"}
    assert await flavors.get_flavor(conn, private["id"], project_id=project) is not None
    assert await flavors.get_flavor(conn, private["id"], project_id=other) is None
    visible = {f["id"] for f in await flavors.list_flavors(conn, project_id=other)}
    assert public["id"] in visible and private["id"] not in visible
    await flavors.set_extra_specs(conn, public["id"], {"hw:cpu_policy": "shared", "x": "1"})
    assert await flavors.unset_extra_spec(conn, public["id"], "x")
    got = await flavors.get_flavor_by_name(conn, public["name"])
    assert got is not None and got["extra_specs"] == {"hw:cpu_policy": "shared"}
    assert await flavors.delete_flavor(conn, private["id"])


async def test_image_visibility_upload_and_delete(conn: asyncpg.Connection) -> None:
    owner, other = await make.project(conn), await make.project(conn)
    image = await images.create_image(
        conn,
        name="debian",
        owner=owner,
        disk_format="qcow2",
        container_format="bare",
        properties={"hw_disk_bus": "virtio"},
    )
    assert image["status"] == "queued"
    assert await images.get_image(conn, image["id"], project_id=other) is None

    active = await images.record_upload(
        conn,
        image["id"],
        location="file:///images/x",
        size=1024,
        checksum="abc",
    )
    assert active is not None and active["status"] == "active"
    assert (
        await images.record_upload(conn, image["id"], location="file:///y", size=1, checksum="d")
        is None
    )  # already active

    await images.set_member(conn, image["id"], other, "accepted")
    await images.set_status(conn, image["id"], "active", expected=["active"])
    await conn.execute("UPDATE images SET visibility = 'shared' WHERE id = $1", image["id"])
    assert [i["id"] for i in await images.list_images(conn, other)] == [image["id"]]
    updated = await images.update_properties(conn, image["id"], {"os": "linux"}, ["hw_disk_bus"])
    assert updated is not None and updated["properties"] == {"os": "linux"}

    deleted = await images.mark_deleted(conn, image["id"])
    assert deleted is not None and deleted["location"] == "file:///images/x"
    assert await images.get_image(conn, image["id"]) is None


async def test_active_image_needs_its_data(conn: asyncpg.Connection) -> None:
    image = await images.create_image(conn, name="empty", owner=None)
    with pytest.raises(asyncpg.CheckViolationError):
        await images.set_status(conn, image["id"], "active")


async def test_users_roles_and_tokens(conn: asyncpg.Connection) -> None:
    project = await identity.ensure_project(conn, make.unique("admin"))
    assert (await identity.ensure_project(conn, project["name"]))["id"] == project["id"]
    user = await identity.create_user(conn, make.unique("alice"), "$argon2id$hash")
    await identity.assign_role(conn, user["id"], project["id"], "member")
    await identity.assign_role(conn, user["id"], project["id"], "admin")
    await identity.assign_role(conn, user["id"], project["id"], "admin")
    assert await identity.roles_for(conn, user["id"], project["id"]) == ["admin", "member"]
    assert await identity.unassign_role(conn, user["id"], project["id"], "admin")
    found = await identity.get_user_by_name(conn, user["name"])
    assert found is not None and found["password_hash"] == "$argon2id$hash"

    good, old = sha256(b"good").hexdigest(), sha256(b"old").hexdigest()
    now = datetime.now(UTC)
    await tokens.store_token(
        conn, good, user["id"], project["id"], ["member"], now + timedelta(hours=1)
    )
    await conn.execute(
        "INSERT INTO tokens (token_hash, user_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
        old,
        user["id"],
        now - timedelta(hours=2),
        now - timedelta(hours=1),
    )
    valid = await tokens.valid_token(conn, good)
    assert valid is not None and valid["roles"] == ["member"]
    assert await tokens.valid_token(conn, old) is None  # expired
    assert await tokens.revoke_token(conn, good)
    assert await tokens.valid_token(conn, good) is None
    assert await tokens.purge_expired(conn, now) >= 1
