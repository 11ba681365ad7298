"""Networks and subnets as the Network API shows them: filtered lists scoped to a
project (its own rows, plus shared and external networks), updates of the attributes a
user may change, and the checks deletes need.

`scope` None means every project (an admin); otherwise the project whose view this is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from conductor.db.sql import Params
from conductor.db.types import Connection, as_dict, as_dicts

NETWORK_SELECT = """
SELECT n.*, coalesce((SELECT array_agg(s.id ORDER BY s.ip_version, s.created_at, s.id)
                      FROM subnets s WHERE s.network_id = n.id), '{}') AS subnet_ids
FROM networks n"""

SUBNET_SELECT = """
SELECT s.id, s.network_id, s.project_id, s.name, s.description, s.ip_version,
       s.cidr::text AS cidr, host(s.gateway_ip) AS gateway_ip, s.enable_dhcp,
       s.allocation_pools, s.host_routes,
       (SELECT coalesce(array_agg(host(d)), '{}') FROM unnest(s.dns_nameservers) d)
           AS dns_nameservers,
       s.revision_number, s.created_at, s.updated_at
FROM subnets s JOIN networks n ON n.id = s.network_id"""

# Neutron deletes these with their network or subnet; any other port blocks the delete
AUTO_DELETED_OWNERS = ("network:dhcp",)


def _network_filters(scope: UUID | None, filters: Mapping[str, Any]) -> tuple[str, Params]:
    params = Params(scope)
    where = ["($1::uuid IS NULL OR n.project_id = $1 OR n.shared OR n.external)"]
    for column in ("name", "external", "shared", "project_id", "status"):
        if filters.get(column) is not None:
            where.append(f"n.{column} = {params.add(filters[column])}")
    if filters.get("ids"):
        where.append(f"n.id = ANY({params.add(list(filters['ids']))}::uuid[])")
    return " AND ".join(where), params


async def list_networks(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    where, params = _network_filters(scope, filters)
    return as_dicts(
        await conn.fetch(
            f"{NETWORK_SELECT} WHERE {where} ORDER BY n.created_at, n.id", *params.values
        )
    )


async def get_network(
    conn: Connection, network_id: UUID, scope: UUID | None, *, lock: bool = False
) -> dict[str, Any] | None:
    """The network when `scope` may see it (own, shared or external)."""
    suffix = " FOR UPDATE OF n" if lock else ""
    return as_dict(
        await conn.fetchrow(
            f"{NETWORK_SELECT} WHERE n.id = $1 "
            f"AND ($2::uuid IS NULL OR n.project_id = $2 OR n.shared OR n.external){suffix}",
            network_id,
            scope,
        )
    )


async def insert_network(conn: Connection, project_id: UUID, values: Mapping[str, Any]) -> UUID:
    network_id: UUID = await conn.fetchval(
        "INSERT INTO networks (project_id, name, description, admin_state_up, shared, "
        "external, port_security_enabled, mtu) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "RETURNING id",
        project_id,
        values["name"],
        values["description"],
        values["admin_state_up"],
        values["shared"],
        values["external"],
        values["port_security_enabled"],
        values["mtu"],
    )
    return network_id


async def update_row(
    conn: Connection, table: str, row_id: UUID, changes: Mapping[str, Any]
) -> None:
    """Set `changes` (column -> value) on one row of `table` (a trusted name)."""
    if not changes:
        return
    params = Params(row_id)
    sets = [f"{column} = {params.add(value)}" for column, value in changes.items()]
    await conn.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE id = $1", *params.values)


async def blocking_ports(conn: Connection, network_id: UUID) -> int:
    """Ports on the network that keep it from being deleted."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM ports WHERE network_id = $1 AND device_owner <> ALL($2)",
            network_id,
            list(AUTO_DELETED_OWNERS),
        )
    )


async def delete_auto_ports(conn: Connection, network_id: UUID) -> None:
    await conn.execute(
        "DELETE FROM ports WHERE network_id = $1 AND device_owner = ANY($2)",
        network_id,
        list(AUTO_DELETED_OWNERS),
    )


async def delete_network(conn: Connection, network_id: UUID) -> int:
    """Delete the network and its subnets; the number of subnets it had."""
    subnets = int(
        await conn.fetchval("SELECT count(*) FROM subnets WHERE network_id = $1", network_id)
    )
    await conn.execute("DELETE FROM subnets WHERE network_id = $1", network_id)
    await conn.execute("DELETE FROM networks WHERE id = $1", network_id)
    return subnets


# ------------------------------------------------------------------------------ subnets


def _subnet_filters(scope: UUID | None, filters: Mapping[str, Any]) -> tuple[str, Params]:
    params = Params(scope)
    where = ["($1::uuid IS NULL OR s.project_id = $1 OR n.shared OR n.external)"]
    for column in ("network_id", "name", "ip_version", "project_id"):
        if filters.get(column) is not None:
            where.append(f"s.{column} = {params.add(filters[column])}")
    if filters.get("cidr") is not None:
        where.append(f"s.cidr = {params.add(filters['cidr'])}::cidr")
    if filters.get("ids"):
        where.append(f"s.id = ANY({params.add(list(filters['ids']))}::uuid[])")
    return " AND ".join(where), params


async def list_subnets(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    where, params = _subnet_filters(scope, filters)
    return as_dicts(
        await conn.fetch(
            f"{SUBNET_SELECT} WHERE {where} ORDER BY s.created_at, s.id", *params.values
        )
    )


async def get_subnet(
    conn: Connection, subnet_id: UUID, scope: UUID | None, *, lock: bool = False
) -> dict[str, Any] | None:
    suffix = " FOR UPDATE OF s" if lock else ""
    return as_dict(
        await conn.fetchrow(
            f"{SUBNET_SELECT} WHERE s.id = $1 "
            f"AND ($2::uuid IS NULL OR s.project_id = $2 OR n.shared OR n.external){suffix}",
            subnet_id,
            scope,
        )
    )


async def cidrs_of(conn: Connection, network_id: UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT cidr::text AS cidr FROM subnets WHERE network_id = $1", network_id
    )
    return [row["cidr"] for row in rows]


async def insert_subnet(
    conn: Connection,
    network_id: UUID,
    project_id: UUID,
    values: Mapping[str, Any],
) -> UUID:
    subnet_id: UUID = await conn.fetchval(
        "INSERT INTO subnets (network_id, project_id, name, description, ip_version, cidr, "
        "gateway_ip, enable_dhcp, dns_nameservers, allocation_pools, host_routes) "
        "VALUES ($1, $2, $3, $4, $5, $6::cidr, $7::inet, $8, $9::inet[], $10, $11) RETURNING id",
        network_id,
        project_id,
        values["name"],
        values["description"],
        values["ip_version"],
        values["cidr"],
        values["gateway_ip"],
        values["enable_dhcp"],
        list(values["dns_nameservers"]),
        _jsonable(values["allocation_pools"]),
        _jsonable(values["host_routes"]),
    )
    return subnet_id


def _jsonable(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(item) for item in items]


async def update_subnet(conn: Connection, subnet_id: UUID, changes: Mapping[str, Any]) -> None:
    if not changes:
        return
    params = Params(subnet_id)
    sets = []
    for column, value in changes.items():
        cast = {"gateway_ip": "::inet", "dns_nameservers": "::inet[]"}.get(column, "")
        if column in ("allocation_pools", "host_routes"):
            value = _jsonable(value)
        elif column == "dns_nameservers":
            value = list(value)
        sets.append(f"{column} = {params.add(value)}{cast}")
    await conn.execute(f"UPDATE subnets SET {', '.join(sets)} WHERE id = $1", *params.values)


async def allocations_on(conn: Connection, subnet_id: UUID) -> int:
    """Addresses of the subnet held by ports that keep it from being deleted."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM ip_allocations a JOIN ports p ON p.id = a.port_id "
            "WHERE a.subnet_id = $1 AND p.device_owner <> ALL($2)",
            subnet_id,
            list(AUTO_DELETED_OWNERS),
        )
    )


async def delete_subnet(conn: Connection, subnet_id: UUID) -> None:
    await conn.execute(
        "DELETE FROM ports WHERE id IN (SELECT a.port_id FROM ip_allocations a JOIN ports p "
        "ON p.id = a.port_id WHERE a.subnet_id = $1 AND p.device_owner = ANY($2))",
        subnet_id,
        list(AUTO_DELETED_OWNERS),
    )
    await conn.execute("DELETE FROM subnets WHERE id = $1", subnet_id)
