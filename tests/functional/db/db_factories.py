"""Rows the DB tests need as parents: projects, users, hosts with inventory, instances."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from conductor.db.queries import hosts, identity, instances, providers
from conductor.db.types import Connection

FLAVOR = {"name": "m1.small", "vcpus": 1, "memory_mb": 512, "disk_gb": 1}


def derived_dsn(pg_dsn: str) -> str:
    """A DSN for a database of this test run: pg_dsn's name plus a random suffix."""
    return f"{pg_dsn}_{uuid4().hex[:8]}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:10]}"


async def project(conn: Connection) -> UUID:
    row = await identity.create_project(conn, unique("project"))
    return UUID(str(row["id"]))


async def user(conn: Connection) -> UUID:
    row = await identity.create_user(conn, unique("user"), "argon2$not-a-real-hash")
    return UUID(str(row["id"]))


async def host(
    conn: Connection,
    *,
    vcpus: int = 8,
    memory_mb: int = 16384,
    disk_gb: int = 100,
    name: str | None = None,
) -> dict[str, Any]:
    """A compute host with VCPU / MEMORY_MB / DISK_GB on its root provider; the host row
    with `root_provider_id` and the provider's current `generation`."""
    row = await hosts.register_host(conn, name or unique("cmp"), ["compute"], incarnation=uuid4())
    generation = await providers.set_inventories(
        conn,
        row["root_provider_id"],
        {
            "VCPU": providers.Inventory(total=vcpus, allocation_ratio=4.0),
            "MEMORY_MB": providers.Inventory(total=memory_mb, reserved=512),
            "DISK_GB": providers.Inventory(total=disk_gb),
        },
        expected_generation=row["generation"],
    )
    return {**row, "generation": generation}


async def instance(
    conn: Connection, project_id: UUID, *, name: str | None = None, **fields: Any
) -> dict[str, Any]:
    row = await instances.insert_instance(
        conn,
        project_id=project_id,
        user_id=uuid4(),
        name=name or unique("vm"),
        flavor=FLAVOR,
        **fields,
    )
    assert row is not None
    return row
