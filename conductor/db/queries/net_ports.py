"""Ports as the Network API makes and shows them: any number of fixed IPs, a chosen or
random MAC, security groups, binding attributes.

IP allocation is race-free the way `ports.create_port` does it: the network's subnets
are locked FOR UPDATE while addresses are chosen, so concurrent creates on a network
take turns, and the primary key (subnet_id, ip_address) backs that up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from conductor import ipam
from conductor.db.queries import networks
from conductor.db.sql import Params
from conductor.db.types import Connection, as_dict, as_dicts

MAC_ATTEMPTS = 16

PORT_SELECT = """
SELECT p.id, p.network_id, p.project_id, p.name, p.description,
       p.mac_address::text AS mac_address, p.admin_state_up, p.status, p.device_id,
       p.device_owner, p.binding_host, p.binding_vnic_type AS vnic_type,
       p.binding_vif_type AS vif_type, p.port_security_enabled, p.revision_number,
       p.created_at, p.updated_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('subnet_id', a.subnet_id,
                                                     'ip_address', host(a.ip_address))
                                  ORDER BY a.created_at, a.ip_address)
                 FROM ip_allocations a WHERE a.port_id = p.id), '[]') AS fixed_ips,
       coalesce((SELECT array_agg(g.security_group_id ORDER BY g.security_group_id)
                 FROM port_security_groups g WHERE g.port_id = p.id), '{}')
           AS security_group_ids
FROM ports p"""


class AllocationError(Exception):
    """An address could not be given; `kind` is Neutron's error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _filters(scope: UUID | None, filters: Mapping[str, Any]) -> tuple[str, Params]:
    params = Params(scope)
    # a router's gateway port and a floating IP's port are not the project's to see
    where = [
        "($1::uuid IS NULL OR (p.project_id = $1 AND p.device_owner NOT IN "
        "('network:router_gateway', 'network:floatingip')))"
    ]
    for column in ("network_id", "device_id", "device_owner", "name", "status", "project_id"):
        if filters.get(column) is not None:
            where.append(f"p.{column} = {params.add(filters[column])}")
    if filters.get("mac_address") is not None:
        where.append(f"p.mac_address::text = lower({params.add(filters['mac_address'])})")
    if filters.get("ids"):
        where.append(f"p.id = ANY({params.add(list(filters['ids']))}::uuid[])")
    ip, subnet = filters.get("ip_address"), filters.get("subnet_id")
    if ip is not None or subnet is not None:
        where.append(
            "EXISTS (SELECT 1 FROM ip_allocations a WHERE a.port_id = p.id "
            f"AND ({params.add(ip)}::inet IS NULL OR a.ip_address = ${len(params.values)}::inet) "
            f"AND ({params.add(subnet)}::uuid IS NULL OR a.subnet_id = ${len(params.values)}))"
        )
    return " AND ".join(where), params


async def list_ports(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    where, params = _filters(scope, filters)
    return as_dicts(
        await conn.fetch(f"{PORT_SELECT} WHERE {where} ORDER BY p.created_at, p.id", *params.values)
    )


async def get_port(
    conn: Connection, port_id: UUID, scope: UUID | None, *, lock: bool = False
) -> dict[str, Any] | None:
    suffix = " FOR UPDATE OF p" if lock else ""
    return as_dict(
        await conn.fetchrow(
            f"{PORT_SELECT} WHERE p.id = $1 AND ($2::uuid IS NULL OR p.project_id = $2){suffix}",
            port_id,
            scope,
        )
    )


async def insert_port(conn: Connection, values: Mapping[str, Any], mac: str | None) -> UUID:
    """A new port row with `mac`, or a random unused one; MacAddressInUse when taken."""
    for _ in range(1 if mac else MAC_ATTEMPTS):
        try:
            async with conn.transaction():  # a savepoint: a taken MAC spoils only itself
                port_id: UUID = await conn.fetchval(
                    "INSERT INTO ports (network_id, project_id, name, description, "
                    "mac_address, admin_state_up, device_id, device_owner, binding_host, "
                    "binding_vnic_type, binding_vif_type, port_security_enabled) "
                    "VALUES ($1, $2, $3, $4, $5::macaddr, $6, $7, $8, $9, $10, $11, $12) "
                    "RETURNING id",
                    values["network_id"],
                    values["project_id"],
                    values["name"],
                    values["description"],
                    mac or ipam.random_mac(),
                    values["admin_state_up"],
                    values["device_id"],
                    values["device_owner"],
                    values["binding_host"],
                    values["vnic_type"],
                    values["vif_type"],
                    values["port_security_enabled"],
                )
            return port_id
        except asyncpg.UniqueViolationError:
            continue
    if mac:
        raise AllocationError(
            "MacAddressInUse",
            f"Unable to complete operation for network {values['network_id']}. "
            f"The mac address {mac} is in use.",
        )
    raise AllocationError("MacAddressGenerationFailure", "no free MAC address found")


async def allocate(
    conn: Connection,
    network_id: UUID,
    port_id: UUID,
    requests: Sequence[Mapping[str, Any]] | None,
    *,
    owner: str = "",
) -> None:
    """Give the port its fixed IPs: each request names a subnet, an address or both;
    None asks for one address from the first subnet with one free."""
    subnets = await networks.subnets_of(conn, network_id, lock=True)
    if requests is None:
        if subnets:
            await _take(conn, port_id, network_id, *await _first_free(conn, subnets))
        return
    for request in requests:
        subnet, address = await _resolve(conn, subnets, request, owner)
        await _take(conn, port_id, network_id, subnet, address)


async def _first_free(conn: Connection, subnets: Sequence[Mapping[str, Any]]) -> tuple[Any, str]:
    for subnet in subnets:
        address = await _free_in(conn, subnet)
        if address is not None:
            return subnet, address
    raise AllocationError(
        "IpAddressGenerationFailure", "No more IP addresses available on network."
    )


async def _free_in(conn: Connection, subnet: Mapping[str, Any]) -> str | None:
    used = await networks.used_addresses(conn, subnet["id"])
    address = ipam.first_free(
        subnet["cidr"], subnet["gateway_ip"], subnet["allocation_pools"], used
    )
    return None if address is None else str(address)


async def _resolve(
    conn: Connection,
    subnets: Sequence[Mapping[str, Any]],
    request: Mapping[str, Any],
    owner: str,
) -> tuple[Mapping[str, Any], str]:
    wanted_subnet, address = request.get("subnet_id"), request.get("ip_address")
    if wanted_subnet is not None:
        candidates = [s for s in subnets if s["id"] == wanted_subnet]
        if not candidates:
            raise AllocationError(
                "InvalidInput",
                f"Invalid input for operation: subnet {wanted_subnet} is not "
                "on the port's network.",
            )
    else:
        if address is None:
            raise AllocationError("InvalidInput", "a fixed IP needs a subnet_id or an ip_address")
        candidates = [
            s for s in subnets if ipaddress.ip_address(address) in ipaddress.ip_network(s["cidr"])
        ]
        if not candidates:
            raise AllocationError(
                "InvalidIpForNetwork",
                f"IP address {address} is not a valid IP for any subnet on the network.",
            )
    subnet = candidates[0]
    if address is None:
        free = await _free_in(conn, subnet)
        if free is None:
            raise AllocationError(
                "IpAddressGenerationFailure",
                f"No more IP addresses available for subnet {subnet['id']}.",
            )
        return subnet, free
    gateway = None if owner.startswith("network:router_interface") else subnet["gateway_ip"]
    try:
        ipam.check_requested(subnet["cidr"], gateway, address)
    except ipam.AddressError as exc:
        raise AllocationError("InvalidIpForSubnet", str(exc)) from None
    return subnet, address


async def _take(
    conn: Connection, port_id: UUID, network_id: UUID, subnet: Mapping[str, Any], address: str
) -> None:
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) "
                "VALUES ($1, $2::inet, $3, $4)",
                subnet["id"],
                address,
                port_id,
                network_id,
            )
    except asyncpg.UniqueViolationError:
        raise AllocationError(
            "IpAddressAlreadyAllocated",
            f"IP address {address} already allocated in subnet {subnet['id']}",
        ) from None


async def release_addresses(conn: Connection, port_id: UUID) -> None:
    await conn.execute("DELETE FROM ip_allocations WHERE port_id = $1", port_id)


async def delete_port(conn: Connection, port_id: UUID) -> None:
    await conn.execute("DELETE FROM ports WHERE id = $1", port_id)


async def floating_ips_on(conn: Connection, port_id: UUID) -> list[dict[str, Any]]:
    """Detach the floating IPs of a port that is going away; the ones that were."""
    return as_dicts(
        await conn.fetch(
            "UPDATE floating_ips f SET fixed_port_id = NULL, fixed_ip_address = NULL, "
            "router_id = NULL, status = 'DOWN' FROM floating_ips old "
            "WHERE f.id = old.id AND f.fixed_port_id = $1 "
            "RETURNING f.id, old.router_id",
            port_id,
        )
    )
