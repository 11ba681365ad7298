"""The audit of the race property test: what the database holds after concurrent
schedulers placed on a set of hosts, checked against what those hosts offer. Each check
returns the violations it found (empty when the invariant holds), so a failing example
says exactly what was over-committed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from uuid import UUID

from conductor.db.types import Connection
from schemas.aggregate_fit import effective_inventory
from schemas.placement import HostInventory

_CAPACITY = {
    "VCPU": ("vcpus", "reserved_vcpus", "cpu_allocation_ratio"),
    "MEMORY_MB": ("memory_mb", "reserved_memory_mb", "ram_allocation_ratio"),
    "DISK_GB": ("disk_gb", "reserved_disk_gb", "disk_allocation_ratio"),
}


def capacity(inventory: HostInventory, resource_class: str) -> int:
    total, reserved, ratio = (getattr(inventory, f) for f in _CAPACITY[resource_class])
    return int((total - reserved) * ratio)


async def amounts(
    conn: Connection,
    offered: Mapping[UUID, HostInventory],
    metadata: Mapping[UUID, Mapping[str, Mapping[str, str]]],
) -> list[str]:
    """vCPUs, memory and disk allocated on each host within its effective inventory (the
    host's own, reshaped by its aggregates' ratios)."""
    rows = await conn.fetch(
        "SELECT rp.host_id, a.resource_class, sum(a.amount)::bigint AS used "
        "FROM allocations a JOIN resource_providers rp ON rp.id = a.provider_id "
        "WHERE rp.host_id = ANY($1) GROUP BY rp.host_id, a.resource_class",
        list(offered),
    )
    found = []
    for row in rows:
        inventory = effective_inventory(offered[row["host_id"]], metadata.get(row["host_id"], {}))
        limit = capacity(inventory, row["resource_class"])
        if row["used"] > limit:
            found.append(f"{row['host_id']}: {row['resource_class']} {row['used']} > {limit}")
    return found


async def devices(conn: Connection, host_ids: Sequence[UUID]) -> list[str]:
    """No PF is held whole while one of its VFs is held, and every held device has one
    holder."""
    rows = await conn.fetch(
        "SELECT host_id, address, parent_addr, instance_id FROM pci_devices "
        "WHERE host_id = ANY($1) AND status IN ('claimed', 'allocated')",
        list(host_ids),
    )
    held = {(row["host_id"], row["address"]) for row in rows}
    found = [
        f"{row['host_id']}: PF {row['parent_addr']} and its VF {row['address']} are both held"
        for row in rows
        if row["parent_addr"] is not None and (row["host_id"], row["parent_addr"]) in held
    ]
    twice = Counter((row["host_id"], row["address"]) for row in rows)
    found += [f"{key}: held {n} times" for key, n in twice.items() if n > 1]
    return found


async def numa(conn: Connection, host_ids: Sequence[UUID]) -> list[str]:
    """Pinned CPUs belong to their cell's dedicated set, none is pinned twice, and no
    cell gives out more memory than it has."""
    pins = await conn.fetch(
        "SELECT p.host_id, p.cell_id, p.cpu, c.pcpuset FROM numa_pinned_cpus p "
        "JOIN numa_cells c ON c.host_id = p.host_id AND c.cell_id = p.cell_id "
        "WHERE p.host_id = ANY($1)",
        list(host_ids),
    )
    found = [
        f"{row['host_id']}: CPU {row['cpu']} is not in cell {row['cell_id']}"
        for row in pins
        if row["cpu"] not in row["pcpuset"]
    ]
    twice = Counter((row["host_id"], row["cpu"]) for row in pins)
    found += [f"{key}: CPU pinned {n} times" for key, n in twice.items() if n > 1]
    memory = await conn.fetch(
        "SELECT c.host_id, c.cell_id, c.memory_mb, sum(m.memory_mb)::bigint AS used "
        "FROM numa_instance_cells m JOIN numa_cells c "
        "ON c.host_id = m.host_id AND c.cell_id = m.cell_id WHERE m.host_id = ANY($1) "
        "GROUP BY c.host_id, c.cell_id, c.memory_mb HAVING sum(m.memory_mb) > c.memory_mb",
        list(host_ids),
    )
    found += [f"{row['host_id']}: cell {row['cell_id']} over-committed" for row in memory]
    return found


async def anti_affinity(conn: Connection, group_id: UUID, per_host: int) -> list[str]:
    """No host holds more than `per_host` members of the hard anti-affinity group."""
    rows = await conn.fetch(
        "SELECT rp.host_id, count(DISTINCT a.consumer_id) AS members "
        "FROM server_group_members m JOIN allocations a ON a.consumer_id = m.instance_id "
        "JOIN resource_providers rp ON rp.id = a.provider_id WHERE m.group_id = $1 "
        "GROUP BY rp.host_id HAVING count(DISTINCT a.consumer_id) > $2",
        group_id,
        per_host,
    )
    return [f"{row['host_id']}: {row['members']} members of {group_id}" for row in rows]
