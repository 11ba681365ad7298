"""Routers as the Network API shows them (with their gateway and interfaces), and
floating IPs (filtered lists, association, the router that reaches a fixed IP)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from conductor.db.sql import Params
from conductor.db.types import Connection, as_dict, as_dicts

ROUTER_SELECT = """
SELECT r.*,
       coalesce((SELECT jsonb_agg(jsonb_build_object('port_id', i.port_id,
                                                     'subnet_id', i.subnet_id,
                                                     'ip_address', host(a.ip_address))
                                  ORDER BY i.subnet_id)
                 FROM router_interfaces i
                 JOIN ip_allocations a ON a.port_id = i.port_id AND a.subnet_id = i.subnet_id
                 WHERE i.router_id = r.id), '[]') AS interfaces,
       coalesce((SELECT jsonb_agg(jsonb_build_object('subnet_id', a.subnet_id,
                                                     'ip_address', host(a.ip_address))
                                  ORDER BY a.ip_address)
                 FROM ip_allocations a WHERE a.port_id = r.external_gateway_port_id), '[]')
           AS external_fixed_ips
FROM routers r"""

FLOATING_SELECT = """
SELECT f.id, f.project_id, f.floating_network_id,
       host(f.floating_ip_address) AS floating_ip_address, f.fixed_port_id AS port_id,
       host(f.fixed_ip_address) AS fixed_ip_address, f.router_id, f.status, f.description,
       f.revision_number, f.created_at, f.updated_at, f.floating_port_id
FROM floating_ips f"""


def _scoped(
    alias: str, scope: UUID | None, filters: Mapping[str, Any], columns: tuple[str, ...]
) -> tuple[str, Params]:
    params = Params(scope)
    where = [f"($1::uuid IS NULL OR {alias}.project_id = $1)"]
    for column in columns:
        if filters.get(column) is not None:
            where.append(f"{alias}.{column} = {params.add(filters[column])}")
    if filters.get("ids"):
        where.append(f"{alias}.id = ANY({params.add(list(filters['ids']))}::uuid[])")
    return " AND ".join(where), params


async def list_routers(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    where, params = _scoped("r", scope, filters, ("name", "project_id"))
    return as_dicts(
        await conn.fetch(
            f"{ROUTER_SELECT} WHERE {where} ORDER BY r.created_at, r.id", *params.values
        )
    )


async def get_router(
    conn: Connection, router_id: UUID, scope: UUID | None, *, lock: bool = False
) -> dict[str, Any] | None:
    suffix = " FOR UPDATE OF r" if lock else ""
    return as_dict(
        await conn.fetchrow(
            f"{ROUTER_SELECT} WHERE r.id = $1 AND ($2::uuid IS NULL OR r.project_id = $2){suffix}",
            router_id,
            scope,
        )
    )


async def insert_router(
    conn: Connection, project_id: UUID, name: str, description: str, admin_state_up: bool
) -> UUID:
    router_id: UUID = await conn.fetchval(
        "INSERT INTO routers (project_id, name, description, admin_state_up) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        project_id,
        name,
        description,
        admin_state_up,
    )
    return router_id


async def set_gateway(
    conn: Connection,
    router_id: UUID,
    network_id: UUID | None,
    port_id: UUID | None,
    enable_snat: bool = True,
) -> None:
    await conn.execute(
        "UPDATE routers SET external_network_id = $2, external_gateway_port_id = $3, "
        "enable_snat = $4 WHERE id = $1",
        router_id,
        network_id,
        port_id,
        enable_snat,
    )


async def add_interface(conn: Connection, router_id: UUID, port_id: UUID, subnet_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO router_interfaces (router_id, port_id, subnet_id) VALUES ($1, $2, $3)",
        router_id,
        port_id,
        subnet_id,
    )


async def interface(
    conn: Connection, router_id: UUID, *, subnet_id: UUID | None, port_id: UUID | None
) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM router_interfaces WHERE router_id = $1 "
            "AND ($2::uuid IS NULL OR subnet_id = $2) AND ($3::uuid IS NULL OR port_id = $3)",
            router_id,
            subnet_id,
            port_id,
        )
    )


async def floating_ips_via(conn: Connection, router_id: UUID, subnet_id: UUID | None = None) -> int:
    """Floating IPs that reach their port through the router (on `subnet_id`)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM floating_ips f WHERE f.router_id = $1 AND ($2::uuid IS NULL "
            "OR EXISTS (SELECT 1 FROM ip_allocations a WHERE a.port_id = f.fixed_port_id "
            "AND a.ip_address = f.fixed_ip_address AND a.subnet_id = $2))",
            router_id,
            subnet_id,
        )
    )


async def delete_router(conn: Connection, router_id: UUID) -> None:
    await conn.execute("DELETE FROM routers WHERE id = $1", router_id)


async def router_reaching(
    conn: Connection, external_network_id: UUID, subnet_id: UUID
) -> UUID | None:
    """A router with its gateway on the external network and an interface on the
    subnet (the path a floating IP's traffic takes)."""
    found: UUID | None = await conn.fetchval(
        "SELECT r.id FROM routers r JOIN router_interfaces i ON i.router_id = r.id "
        "WHERE r.external_network_id = $1 AND i.subnet_id = $2 ORDER BY r.created_at LIMIT 1",
        external_network_id,
        subnet_id,
    )
    return found


# ------------------------------------------------------------------------- floating IPs


async def list_floating_ips(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    where, params = _scoped(
        "f", scope, filters, ("floating_network_id", "router_id", "status", "project_id")
    )
    if filters.get("port_id") is not None:
        where += f" AND f.fixed_port_id = {params.add(filters['port_id'])}"
    if filters.get("floating_ip_address") is not None:
        where += f" AND f.floating_ip_address = {params.add(filters['floating_ip_address'])}::inet"
    return as_dicts(
        await conn.fetch(
            f"{FLOATING_SELECT} WHERE {where} ORDER BY f.created_at, f.id", *params.values
        )
    )


async def get_floating_ip(
    conn: Connection, floating_ip_id: UUID, scope: UUID | None, *, lock: bool = False
) -> dict[str, Any] | None:
    suffix = " FOR UPDATE OF f" if lock else ""
    return as_dict(
        await conn.fetchrow(
            f"{FLOATING_SELECT} WHERE f.id = $1 "
            f"AND ($2::uuid IS NULL OR f.project_id = $2){suffix}",
            floating_ip_id,
            scope,
        )
    )


async def insert_floating_ip(
    conn: Connection,
    project_id: UUID,
    network_id: UUID,
    address: str,
    port_id: UUID,
    description: str,
) -> UUID:
    floating_ip_id: UUID = await conn.fetchval(
        "INSERT INTO floating_ips (project_id, floating_network_id, floating_ip_address, "
        "floating_port_id, description) VALUES ($1, $2, $3::inet, $4, $5) RETURNING id",
        project_id,
        network_id,
        address,
        port_id,
        description,
    )
    return floating_ip_id


async def associate(
    conn: Connection,
    floating_ip_id: UUID,
    port_id: UUID | None,
    fixed_ip: str | None,
    router_id: UUID | None,
) -> None:
    """Point the floating IP at a port's fixed IP through a router (all None: detach)."""
    await conn.execute(
        "UPDATE floating_ips SET fixed_port_id = $2, fixed_ip_address = $3::inet, "
        "router_id = $4, status = CASE WHEN $2::uuid IS NULL THEN 'DOWN' ELSE 'ACTIVE' END "
        "WHERE id = $1",
        floating_ip_id,
        port_id,
        fixed_ip,
        router_id,
    )


async def fixed_ip_taken(conn: Connection, port_id: UUID, fixed_ip: str, but: UUID) -> UUID | None:
    """Another floating IP already on this fixed IP."""
    found: UUID | None = await conn.fetchval(
        "SELECT id FROM floating_ips WHERE fixed_port_id = $1 AND fixed_ip_address = $2::inet "
        "AND id <> $3",
        port_id,
        fixed_ip,
        but,
    )
    return found
