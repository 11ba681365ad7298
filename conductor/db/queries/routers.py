"""Routers: a router with an external gateway port on an external network, and
interfaces (ports taking each attached subnet's gateway address)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.queries import ports
from conductor.db.types import Connection, as_dict, one


async def create_router(
    conn: Connection, project_id: UUID, name: str, *, external_network_id: UUID | None = None
) -> dict[str, Any]:
    """The router, with its gateway port on `external_network_id` when given."""
    async with conn.transaction():
        router = one(
            await conn.fetchrow(
                "INSERT INTO routers (project_id, name) VALUES ($1, $2) RETURNING *",
                project_id,
                name,
            )
        )
        if external_network_id is None:
            return router
        gateway = await ports.create_port(
            conn,
            network_id=external_network_id,
            project_id=project_id,
            device_id=str(router["id"]),
            device_owner="network:router_gateway",
        )
        return one(
            await conn.fetchrow(
                "UPDATE routers SET external_network_id = $2, external_gateway_port_id = $3, "
                "updated_at = now() WHERE id = $1 RETURNING *",
                router["id"],
                external_network_id,
                gateway["id"],
            )
        )


async def add_interface(
    conn: Connection, router_id: UUID, project_id: UUID, subnet: dict[str, Any]
) -> dict[str, Any]:
    """Attach `subnet` to the router through a port holding the subnet's gateway."""
    async with conn.transaction():
        port = await ports.create_port(
            conn,
            network_id=subnet["network_id"],
            project_id=project_id,
            device_id=str(router_id),
            device_owner=ports.ROUTER_OWNER,  # as the API makes them (and Neutron with OVN)
            fixed_ip=str(subnet["gateway_ip"]),
        )
        await conn.execute(
            "INSERT INTO router_interfaces (router_id, port_id, subnet_id) VALUES ($1, $2, $3)",
            router_id,
            port["id"],
            subnet["id"],
        )
    return port


async def get_router_by_name(
    conn: Connection, project_id: UUID, name: str
) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM routers WHERE project_id = $1 AND name = $2", project_id, name
        )
    )


async def interfaces_of(conn: Connection, router_id: UUID) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in await conn.fetch(
            "SELECT * FROM router_interfaces WHERE router_id = $1 ORDER BY subnet_id", router_id
        )
    ]
