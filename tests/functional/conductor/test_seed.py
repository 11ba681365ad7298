"""The demo content: created once, unchanged by a second run, passwords hashed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conductor.db.pool import open_connection
from conductor.db.queries import flavors, identity
from conductor.passwords import verify_password
from conductor.seed import seed

pytestmark = pytest.mark.functional


async def test_seed_is_idempotent(workflow_dsn: str, tmp_path: Path) -> None:
    async with open_connection(workflow_dsn) as conn:
        first = await seed(conn, tmp_path)
        second = await seed(conn, tmp_path)
        assert first == second
        tiny = await flavors.get_flavor_by_name(conn, "m1.tiny")
        assert tiny is not None and (tiny["vcpus"], tiny["memory_mb"], tiny["disk_gb"]) == (
            1,
            512,
            1,
        )
        demo = await identity.get_user_by_name(conn, "demo")
        assert demo is not None and verify_password("demo", demo["password_hash"])
        assert not verify_password("wrong", demo["password_hash"])
        assert await identity.roles_for(conn, demo["id"], first["projects"]["demo"]) == ["member"]
        router = await conn.fetchrow("SELECT * FROM routers WHERE name = 'router1'")
        assert router is not None and router["external_network_id"] is not None
        interface = await conn.fetchrow(
            "SELECT host(a.ip_address) AS ip, s.cidr::text AS cidr FROM router_interfaces r "
            "JOIN ip_allocations a ON a.port_id = r.port_id JOIN subnets s ON s.id = r.subnet_id "
            "WHERE r.router_id = $1",
            router["id"],
        )
        assert (interface["ip"], interface["cidr"]) == ("10.0.0.1", "10.0.0.0/26")
        public = await conn.fetchval("SELECT external FROM networks WHERE name = 'public'")
        assert public is True
    assert (tmp_path / str(first["image"])).exists()  # named by id, like uploads
