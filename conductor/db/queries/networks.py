"""Networks and subnets, as far as ports need them (create, look up, lock for IPAM).

Addresses are exchanged as text: `cidr` as "10.0.0.0/24", `gateway_ip` without a mask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, as_dict, as_dicts, one

SUBNET_COLUMNS = (
    "id, network_id, project_id, name, ip_version, cidr::text AS cidr, "
    "host(gateway_ip) AS gateway_ip, enable_dhcp, allocation_pools, created_at, updated_at"
)


async def create_network(
    conn: Connection,
    project_id: UUID,
    name: str,
    *,
    shared: bool = False,
    external: bool = False,
    mtu: int = 1442,
    network_id: UUID | None = None,
) -> dict[str, Any]:
    return one(
        await conn.fetchrow(
            "INSERT INTO networks (id, project_id, name, shared, mtu, external) "
            "VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6) RETURNING *",
            network_id,
            project_id,
            name,
            shared,
            mtu,
            external,
        )
    )


async def get_network(
    conn: Connection, network_id: UUID, *, visible_to: UUID | None = None
) -> dict[str, Any] | None:
    """The network; with `visible_to`, only when that project owns it or it is shared."""
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM networks WHERE id = $1 "
            "AND ($2::uuid IS NULL OR project_id = $2 OR shared)",
            network_id,
            visible_to,
        )
    )


async def get_network_by_name(
    conn: Connection, project_id: UUID, name: str
) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM networks WHERE project_id = $1 AND name = $2 ORDER BY created_at "
            "LIMIT 1",
            project_id,
            name,
        )
    )


async def create_subnet(
    conn: Connection,
    network_id: UUID,
    project_id: UUID,
    cidr: str,
    *,
    gateway_ip: str | None = None,
    name: str = "",
    allocation_pools: Sequence[Mapping[str, str]] = (),
    enable_dhcp: bool = True,
) -> dict[str, Any]:
    return one(
        await conn.fetchrow(
            "INSERT INTO subnets (network_id, project_id, name, ip_version, cidr, gateway_ip, "
            "allocation_pools, enable_dhcp) "
            "VALUES ($1, $2, $3, family($4::cidr), $4::cidr, $5::inet, $6, $7) "
            f"RETURNING {SUBNET_COLUMNS}",
            network_id,
            project_id,
            name,
            cidr,
            gateway_ip,
            [dict(p) for p in allocation_pools],
            enable_dhcp,
        )
    )


async def subnets_of(
    conn: Connection, network_id: UUID, *, lock: bool = False
) -> list[dict[str, Any]]:
    """The network's subnets, IPv4 first; `lock` takes them FOR UPDATE (IPAM)."""
    suffix = " FOR UPDATE" if lock else ""
    return as_dicts(
        await conn.fetch(
            f"SELECT {SUBNET_COLUMNS} FROM subnets WHERE network_id = $1 "
            f"ORDER BY ip_version, created_at, id{suffix}",
            network_id,
        )
    )


async def used_addresses(conn: Connection, subnet_id: UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT host(ip_address) AS ip FROM ip_allocations WHERE subnet_id = $1", subnet_id
    )
    return [row["ip"] for row in rows]


async def visible_networks(
    conn: Connection, project_id: UUID, *, name: str | None = None
) -> list[dict[str, Any]]:
    """Networks the project owns, plus shared and external ones, by name."""
    return as_dicts(
        await conn.fetch(
            "SELECT * FROM networks WHERE (project_id = $1 OR shared OR external) "
            "AND ($2::text IS NULL OR name = $2) ORDER BY name, id",
            project_id,
            name,
        )
    )


async def delete_network(conn: Connection, network_id: UUID) -> bool:
    """Delete the network and its subnets (callers check it has no ports first)."""
    status = await conn.execute("DELETE FROM networks WHERE id = $1", network_id)
    return status.endswith(" 1")
