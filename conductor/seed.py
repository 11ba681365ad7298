"""The starting content of a new deployment, as devstack creates it: projects `admin`
and `demo` with their users, the `guest` user the local RabbitMQ uses (so AMQP
producers can act in `demo`), flavors `m1.tiny` and `m1.small`, the `busybox`
image, and the networks: `public` (external, 172.24.4.0/24) and demo's `private`
(10.0.0.0/26) routed to it by `router1`. Idempotent: running it again changes nothing
that exists."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from conductor.db.queries import flavors, identity, images, networks, routers
from conductor.db.types import Connection
from conductor.passwords import hash_password

FLAVORS = {"m1.tiny": (1, 512, 1), "m1.small": (1, 2048, 20)}
# (user, project, role, password)
USERS = (
    ("admin", "admin", "admin", "admin"),
    ("demo", "demo", "member", "demo"),
    ("guest", "demo", "member", "guest"),
)


async def seed(conn: Connection, image_dir: Path) -> dict[str, Any]:
    """Create what is missing; returns the ids a caller may need."""
    async with conn.transaction():
        projects = {
            name: (await identity.ensure_project(conn, name))["id"] for name in ("admin", "demo")
        }
        for user, project, role, password in USERS:
            row = await identity.get_user_by_name(conn, user)
            if row is None:
                row = await identity.create_user(
                    conn, user, hash_password(password), default_project_id=projects[project]
                )
            await identity.assign_role(conn, row["id"], projects[project], role)
        flavor_ids = {}
        for name, (vcpus, ram, disk) in FLAVORS.items():
            row = await flavors.get_flavor_by_name(conn, name)
            if row is None:
                row = await flavors.create_flavor(
                    conn, name, vcpus=vcpus, memory_mb=ram, disk_gb=disk
                )
            flavor_ids[name] = row["id"]
        image_id = await _busybox(conn, image_dir, projects["admin"])
        network_id = await _networks(conn, projects["admin"], projects["demo"])
    return {
        "projects": projects,
        "flavors": flavor_ids,
        "image": image_id,
        "network": network_id,
    }


async def _networks(conn: Connection, admin: Any, demo: Any) -> Any:
    """devstack's layout: `public` (external, shared, 172.24.4.0/24, owned by admin) and
    demo's `private` (10.0.0.0/26) joined by demo's `router1`; the private id."""
    public = await networks.get_network_by_name(conn, admin, "public")
    if public is None:
        public = await networks.create_network(conn, admin, "public", shared=True, external=True)
        await networks.create_subnet(
            conn,
            public["id"],
            admin,
            "172.24.4.0/24",
            gateway_ip="172.24.4.1",
            name="public-subnet",
            enable_dhcp=False,
            allocation_pools=({"start": "172.24.4.10", "end": "172.24.4.254"},),
        )
    private = await networks.get_network_by_name(conn, demo, "private")
    if private is None:
        private = await networks.create_network(conn, demo, "private")
        await networks.create_subnet(
            conn,
            private["id"],
            demo,
            "10.0.0.0/26",
            gateway_ip="10.0.0.1",
            name="private-subnet",
        )
    if await routers.get_router_by_name(conn, demo, "router1") is None:
        router = await routers.create_router(
            conn, demo, "router1", external_network_id=public["id"]
        )
        (subnet,) = await networks.subnets_of(conn, private["id"])
        await routers.add_interface(conn, router["id"], demo, subnet)
    return private["id"]


async def _busybox(conn: Connection, image_dir: Path, project_id: Any) -> Any:
    existing = [i for i in await images.list_images(conn, project_id) if i["name"] == "busybox"]
    if existing:
        return existing[0]["id"]
    row = await images.create_image(
        conn,
        name="busybox",
        owner=None,
        visibility="public",
        disk_format="raw",
        container_format="bare",
    )
    path, data = await asyncio.to_thread(_image_file, image_dir, row["id"])
    await images.record_upload(
        conn,
        row["id"],
        location=str(path),
        size=len(data),
        checksum=hashlib.md5(data).hexdigest(),
        os_hash_value=hashlib.sha512(data).hexdigest(),
    )
    return row["id"]


def _image_file(image_dir: Path, image_id: Any) -> tuple[Path, bytes]:
    """The image store is a directory of files named by image id (as uploads through the
    Image API are, so the RBD storage agent imports it like any other); this file stands
    for the guest image that the QEMU driver boots (the test and fake hypervisors use only
    its metadata)."""
    image_dir.mkdir(parents=True, exist_ok=True)
    path = image_dir / str(image_id)
    if not path.exists():
        path.write_bytes(b"skymesh busybox image\n")
    return path, path.read_bytes()
