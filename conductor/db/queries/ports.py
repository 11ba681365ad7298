"""Ports with their MAC and fixed IPs (Neutron's ports and IP allocations).

`create_port` picks a random MAC (retrying under a savepoint when the network already
has it: UNIQUE (network_id, mac_address)) and an address from the first subnet of the
network with one free. The network's subnets are locked FOR UPDATE while the address is
chosen, so concurrent creates on one network never pick the same address; the primary
key (subnet_id, ip_address) backs that up. Deleting a port frees its addresses (ON
DELETE CASCADE). A port being plugged or unplugged carries `task_state` and
`task_deadline` (attaching, detaching).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from conductor import ipam
from conductor.db.queries import networks
from conductor.db.sql import UNSET, Params, Unset
from conductor.db.types import Connection, as_dict, as_dicts, one

MAC_ATTEMPTS = 16
_MAC_UNIQUE = "ports_network_id_mac_address_key"

PORT_SELECT = """
SELECT p.id, p.network_id, p.project_id, p.name, p.mac_address::text AS mac_address,
       p.admin_state_up, p.status, p.device_id, p.device_owner, p.binding_host,
       p.binding_vnic_type AS vnic_type, p.binding_vif_type AS vif_type,
       p.port_security_enabled, p.preserve_on_delete, p.task_state, p.task_deadline,
       p.created_at, p.updated_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('subnet_id', a.subnet_id,
                                                     'ip_address', host(a.ip_address))
                                  ORDER BY a.ip_address)
                 FROM ip_allocations a WHERE a.port_id = p.id), '[]') AS fixed_ips
FROM ports p"""


class NoFreeAddress(Exception):
    """Every subnet of the network is full."""


class AddressInUse(Exception):
    """The requested fixed IP belongs to another port."""


class NoFreeMac(Exception):
    """MAC_ATTEMPTS random MACs were all taken on the network."""


ROUTER_OWNER = "network:router_interface"


async def create_port(
    conn: Connection,
    *,
    network_id: UUID,
    project_id: UUID,
    device_id: str = "",
    device_owner: str = "",
    binding_host: str | None = None,
    name: str = "",
    fixed_ip: str | None = None,
    task_state: str | None = None,
    task_deadline: datetime | None = None,
    port_id: UUID | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """A new port (status DOWN) with a unique MAC and one fixed IP when the network has
    subnets; raises NoFreeAddress, AddressInUse, ipam.AddressError or NoFreeMac. Call it
    inside a transaction."""
    subnets = await networks.subnets_of(conn, network_id, lock=True)
    port_id = port_id or uuid4()
    await _insert_with_unique_mac(
        conn,
        rng,
        port_id,
        network_id,
        project_id,
        name,
        device_id,
        device_owner,
        binding_host,
        task_state,
        task_deadline,
    )
    if subnets:
        subnet_id, address = await _choose_address(conn, subnets, fixed_ip, device_owner)
        await conn.execute(
            "INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) "
            "VALUES ($1, $2::inet, $3, $4)",
            subnet_id,
            address,
            port_id,
            network_id,
        )
    return one(await get_port(conn, port_id))


async def _insert_with_unique_mac(
    conn: Connection, rng: random.Random | None, port_id: UUID, *columns: Any
) -> None:
    for _ in range(MAC_ATTEMPTS):
        try:
            async with conn.transaction():  # a savepoint: a taken MAC spoils only itself
                await conn.execute(
                    "INSERT INTO ports (id, mac_address, network_id, project_id, name, "
                    "device_id, device_owner, binding_host, task_state, task_deadline) "
                    "VALUES ($1, $2::macaddr, $3, $4, $5, $6, $7, $8, $9, $10)",
                    port_id,
                    ipam.random_mac(rng),
                    *columns,
                )
            return
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != _MAC_UNIQUE:
                raise
    raise NoFreeMac(f"no free MAC address found in {MAC_ATTEMPTS} attempts")


async def _choose_address(
    conn: Connection, subnets: list[dict[str, Any]], fixed_ip: str | None, owner: str = ""
) -> tuple[UUID, str]:
    if fixed_ip is not None:
        errors = []
        for subnet in subnets:
            # only a router's interface may take its subnet's gateway address
            gateway = None if owner.startswith(ROUTER_OWNER) else subnet["gateway_ip"]
            try:
                ipam.check_requested(subnet["cidr"], gateway, fixed_ip)
            except ipam.AddressError as exc:
                errors.append(str(exc))
                continue
            if fixed_ip in await networks.used_addresses(conn, subnet["id"]):
                raise AddressInUse(f"{fixed_ip} is already allocated")
            return subnet["id"], fixed_ip
        raise ipam.AddressError("; ".join(errors))
    for subnet in subnets:
        used = await networks.used_addresses(conn, subnet["id"])
        address = ipam.first_free(
            subnet["cidr"], subnet["gateway_ip"], subnet["allocation_pools"], used
        )
        if address is not None:
            return subnet["id"], str(address)
    raise NoFreeAddress("no free IP address is left on the network")


async def get_port(
    conn: Connection, port_id: UUID, *, project_id: UUID | None = None, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE OF p" if for_update else ""
    return as_dict(
        await conn.fetchrow(
            f"{PORT_SELECT} WHERE p.id = $1 AND ($2::uuid IS NULL OR p.project_id = $2){lock}",
            port_id,
            project_id,
        )
    )


async def ports_of_device(
    conn: Connection, device_id: str, *, for_update: bool = False
) -> list[dict[str, Any]]:
    lock = " FOR UPDATE OF p" if for_update else ""
    return as_dicts(
        await conn.fetch(
            f"{PORT_SELECT} WHERE p.device_id = $1 ORDER BY p.created_at, p.id{lock}",
            device_id,
        )
    )


async def update_port(
    conn: Connection,
    port_id: UUID,
    *,
    expected_task: Collection[str | None] | Unset = UNSET,
    status: str | Unset = UNSET,
    task_state: str | Unset | None = UNSET,
    task_deadline: datetime | Unset | None = UNSET,
    vif_type: str | Unset = UNSET,
) -> dict[str, Any] | None:
    """Change a port, only when its task is one of `expected_task` (None: no task)."""
    params = Params(port_id)
    sets = ["updated_at = now()"]
    for column, value in (
        ("status", status),
        ("task_state", task_state),
        ("task_deadline", task_deadline),
        ("binding_vif_type", vif_type),
    ):
        if not isinstance(value, Unset):
            sets.append(f"{column} = {params.add(value)}")
    where = "id = $1"
    if not isinstance(expected_task, Unset):
        tasks = [t for t in expected_task if t is not None]
        where += f" AND (task_state = ANY({params.add(tasks)})"
        where += " OR task_state IS NULL)" if None in expected_task else ")"
    row = await conn.fetchrow(
        f"UPDATE ports SET {', '.join(sets)} WHERE {where} RETURNING id", *params.values
    )
    return None if row is None else await get_port(conn, port_id)


async def delete_port(conn: Connection, port_id: UUID) -> dict[str, Any] | None:
    """Delete the port and free its addresses; the port as it was, or None."""
    port = await get_port(conn, port_id)
    if port is None:
        return None
    await conn.execute("DELETE FROM ports WHERE id = $1", port_id)
    return port


async def expired(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """Ports whose task passed its deadline, locked (SKIP LOCKED: sweeps share them)."""
    return as_dicts(
        await conn.fetch(
            f"{PORT_SELECT} WHERE p.task_deadline < now() "
            "ORDER BY p.task_deadline LIMIT $1 FOR UPDATE OF p SKIP LOCKED",
            limit,
        )
    )


async def bind_port(
    conn: Connection,
    port_id: UUID,
    *,
    device_id: str,
    device_owner: str,
    binding_host: str,
    task_deadline: datetime,
) -> dict[str, Any] | None:
    """Give an unbound port (the user's own) to a server, task `attaching`; it is kept
    (unbound again) when detached. None when the port is bound or busy."""
    row = await conn.fetchrow(
        "UPDATE ports SET device_id = $2, device_owner = $3, binding_host = $4, "
        "task_state = 'attaching', task_deadline = $5, preserve_on_delete = true, "
        "updated_at = now() WHERE id = $1 AND device_id = '' AND task_state IS NULL "
        "RETURNING id",
        port_id,
        device_id,
        device_owner,
        binding_host,
        task_deadline,
    )
    return None if row is None else await get_port(conn, port_id)


async def unbind_port(conn: Connection, port_id: UUID) -> dict[str, Any] | None:
    """Take a kept port back from its server: unbound, DOWN, no task."""
    row = await conn.fetchrow(
        "UPDATE ports SET device_id = '', device_owner = '', binding_host = NULL, "
        "status = 'DOWN', binding_vif_type = 'unbound', task_state = NULL, "
        "task_deadline = NULL, preserve_on_delete = false, updated_at = now() "
        "WHERE id = $1 RETURNING id",
        port_id,
    )
    return None if row is None else await get_port(conn, port_id)


async def count_on_network(conn: Connection, network_id: UUID) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM ports WHERE network_id = $1", network_id))


async def claim_for_server(
    conn: Connection, port_id: UUID, *, project_id: UUID, device_id: str, device_owner: str
) -> dict[str, Any] | None:
    """Give the project's unbound port to a server being created (no host yet, no
    task: the build binds it); it is kept, unbound again, when the server goes. None
    when the port is bound or busy."""
    row = await conn.fetchrow(
        "UPDATE ports SET device_id = $3, device_owner = $4, preserve_on_delete = true, "
        "updated_at = now() WHERE id = $1 AND project_id = $2 AND device_id = '' "
        "AND task_state IS NULL RETURNING id",
        port_id,
        project_id,
        device_id,
        device_owner,
    )
    return None if row is None else await get_port(conn, port_id)


async def bind_to_host(conn: Connection, port_id: UUID, host: str, vif_type: str) -> None:
    """Bind a server's port to the host its server is being built on (again, when the
    build moves to another host)."""
    await conn.execute(
        "UPDATE ports SET binding_host = $2, binding_vif_type = $3 WHERE id = $1",
        port_id,
        host,
        vif_type,
    )
