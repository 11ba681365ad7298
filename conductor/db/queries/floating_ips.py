"""Floating IPs: an address of an external network held by a project, through a port
on that network (so IPAM keeps addresses unique)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.queries import ports
from conductor.db.types import Connection, as_dict, one

_COLUMNS = (
    "id, project_id, floating_network_id, host(floating_ip_address) AS floating_ip_address, "
    "fixed_port_id AS port_id, host(fixed_ip_address) AS fixed_ip_address, router_id, "
    "status, description, created_at, updated_at"
)


async def allocate(
    conn: Connection, project_id: UUID, network_id: UUID, *, description: str = ""
) -> dict[str, Any]:
    """A new floating IP on `network_id` (raises ports.NoFreeAddress when it is full)."""
    async with conn.transaction():
        port = await ports.create_port(
            conn,
            network_id=network_id,
            project_id=project_id,
            device_owner="network:floatingip",
        )
        address = port["fixed_ips"][0]["ip_address"]
        return one(
            await conn.fetchrow(
                "INSERT INTO floating_ips (project_id, floating_network_id, floating_ip_address, "
                "floating_port_id, description) VALUES ($1, $2, $3::inet, $4, $5) "
                f"RETURNING {_COLUMNS}",
                project_id,
                network_id,
                address,
                port["id"],
                description,
            )
        )


async def get(
    conn: Connection, floating_ip_id: UUID, *, project_id: UUID | None = None
) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM floating_ips WHERE id = $1 "
            "AND ($2::uuid IS NULL OR project_id = $2)",
            floating_ip_id,
            project_id,
        )
    )


async def release(conn: Connection, floating_ip_id: UUID) -> bool:
    """Delete the floating IP and its port (the address becomes free)."""
    async with conn.transaction():
        port_id = await conn.fetchval(
            "DELETE FROM floating_ips WHERE id = $1 RETURNING floating_port_id", floating_ip_id
        )
        if port_id is None:
            return False
        await ports.delete_port(conn, port_id)
    return True
