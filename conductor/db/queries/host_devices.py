"""A host's NUMA cells and PCI devices as its agent reports them, and what instances
take of them (pinned CPUs, cell memory, claimed devices).

These are written beside the root provider's allocations in the same transaction (the
plan apply), under the root provider's generation: every writer bumps it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected

_IN_USE = ("claimed", "allocated")


@dataclass(frozen=True)
class NumaCellRow:
    cell_id: int
    cpus: tuple[int, ...]  # the CPUs dedicated guests may be pinned to (pcpuset)
    memory_mb: int


@dataclass(frozen=True)
class PciDeviceRow:
    address: str
    vendor_id: str
    product_id: str
    dev_type: str
    parent_addr: str | None = None
    physical_network: str | None = None
    numa_node: int | None = None
    status: str = "available"
    label: str | None = None


@dataclass(frozen=True)
class NumaPin:
    """What one instance takes of one host cell."""

    cell_id: int
    cpus: tuple[int, ...]
    memory_mb: int


async def set_numa_cells(conn: Connection, host_id: UUID, cells: Sequence[NumaCellRow]) -> None:
    """Replace the host's cells; a cell no longer reported goes unless CPUs are pinned on it."""
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM numa_cells c WHERE c.host_id = $1 AND NOT (c.cell_id = ANY($2)) "
            "AND NOT EXISTS (SELECT 1 FROM numa_pinned_cpus p "
            "WHERE p.host_id = c.host_id AND p.cell_id = c.cell_id)",
            host_id,
            [cell.cell_id for cell in cells],
        )
        await conn.executemany(
            "INSERT INTO numa_cells (host_id, cell_id, cpuset, pcpuset, memory_mb) "
            "VALUES ($1, $2, $3, $3, $4) ON CONFLICT (host_id, cell_id) DO UPDATE SET "
            "cpuset = excluded.cpuset, pcpuset = excluded.pcpuset, memory_mb = excluded.memory_mb",
            [(host_id, c.cell_id, sorted(c.cpus), c.memory_mb) for c in cells],
        )


async def set_pci_devices(
    conn: Connection, host_id: UUID, provider_id: UUID | None, devices: Sequence[PciDeviceRow]
) -> None:
    """Upsert the reported devices (PFs before their VFs) and mark the others removed. A
    device held by an instance keeps its claim status."""
    ordered = sorted(devices, key=lambda d: (d.parent_addr is not None, d.address))
    async with conn.transaction():
        await conn.executemany(
            """
            INSERT INTO pci_devices (host_id, provider_id, address, vendor_id, product_id,
                                     dev_type, parent_addr, physical_network, numa_node,
                                     status, label)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (host_id, address) DO UPDATE SET
                provider_id = excluded.provider_id, vendor_id = excluded.vendor_id,
                product_id = excluded.product_id, dev_type = excluded.dev_type,
                parent_addr = excluded.parent_addr,
                physical_network = excluded.physical_network,
                numa_node = excluded.numa_node, label = excluded.label,
                status = CASE WHEN pci_devices.instance_id IS NOT NULL
                              THEN pci_devices.status ELSE excluded.status END,
                updated_at = now()""",
            [
                (
                    host_id,
                    provider_id,
                    d.address,
                    d.vendor_id,
                    d.product_id,
                    d.dev_type,
                    d.parent_addr,
                    d.physical_network,
                    d.numa_node,
                    d.status,
                    d.label,
                )
                for d in ordered
            ],
        )
        await conn.execute(
            "UPDATE pci_devices SET status = 'removed', updated_at = now() "
            "WHERE host_id = $1 AND NOT (address = ANY($2)) AND instance_id IS NULL",
            host_id,
            [d.address for d in devices],
        )


async def pci_devices(conn: Connection, host_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """{host: its devices not removed, by address}, each with `status` and `instance_id`."""
    rows = await conn.fetch(
        "SELECT host_id, address, vendor_id, product_id, dev_type, parent_addr, "
        "physical_network, numa_node, status, label, instance_id FROM pci_devices "
        "WHERE host_id = ANY($1) AND status <> 'removed' ORDER BY host_id, address",
        list(host_ids),
    )
    result: dict[UUID, list[Any]] = {host_id: [] for host_id in host_ids}
    for row in rows:
        result[row["host_id"]].append(row)
    return result


async def numa_cells(conn: Connection, host_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """{host: its cells by id}, each with `pcpuset`, `memory_mb`, `pinned` (CPUs) and
    `memory_used_mb` (by instances placed on the cell)."""
    rows = await conn.fetch(
        """
        SELECT c.host_id, c.cell_id, c.pcpuset, c.memory_mb,
               ARRAY(SELECT p.cpu FROM numa_pinned_cpus p WHERE p.host_id = c.host_id
                     AND p.cell_id = c.cell_id ORDER BY p.cpu) AS pinned,
               coalesce((SELECT sum(m.memory_mb) FROM numa_instance_cells m
                         WHERE m.host_id = c.host_id AND m.cell_id = c.cell_id), 0)::bigint
                   AS memory_used_mb
        FROM numa_cells c WHERE c.host_id = ANY($1) ORDER BY c.host_id, c.cell_id""",
        list(host_ids),
    )
    result: dict[UUID, list[Any]] = {host_id: [] for host_id in host_ids}
    for row in rows:
        result[row["host_id"]].append(row)
    return result


async def consumer_counts(conn: Connection, provider_ids: Sequence[UUID]) -> dict[UUID, int]:
    """{provider: how many consumers hold allocations of it}."""
    rows = await conn.fetch(
        "SELECT provider_id, count(DISTINCT consumer_id) AS n FROM allocations "
        "WHERE provider_id = ANY($1) GROUP BY provider_id",
        list(provider_ids),
    )
    counts = {provider_id: 0 for provider_id in provider_ids}
    counts.update({row["provider_id"]: row["n"] for row in rows})
    return counts


async def claim_pci(
    conn: Connection, host_id: UUID, instance_id: UUID, addresses: Sequence[str]
) -> bool:
    """Mark the devices claimed by `instance_id`; False (nothing changed by the caller's
    transaction once rolled back) when one of them is not available."""
    if not addresses:
        return True
    status = await conn.execute(
        "UPDATE pci_devices SET status = 'claimed', instance_id = $2, updated_at = now() "
        "WHERE host_id = $1 AND address = ANY($3) AND status = 'available' "
        "AND instance_id IS NULL",
        host_id,
        instance_id,
        list(addresses),
    )
    return affected(status) == len(set(addresses))


async def pin_numa(
    conn: Connection, host_id: UUID, instance_id: UUID, pins: Sequence[NumaPin]
) -> None:
    """Record the instance's cells and pinned CPUs (UniqueViolation when a CPU is taken)."""
    await conn.executemany(
        "INSERT INTO numa_instance_cells (instance_id, host_id, cell_id, memory_mb) "
        "VALUES ($1, $2, $3, $4)",
        [(instance_id, host_id, pin.cell_id, pin.memory_mb) for pin in pins],
    )
    await conn.executemany(
        "INSERT INTO numa_pinned_cpus (host_id, cell_id, cpu, instance_id) VALUES ($1, $2, $3, $4)",
        [(host_id, pin.cell_id, cpu, instance_id) for pin in pins for cpu in pin.cpus],
    )


async def release_instance(conn: Connection, instance_id: UUID) -> None:
    """Free the devices, pinned CPUs and cell memory `instance_id` holds (idempotent)."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE pci_devices SET status = 'available', instance_id = NULL, "
            "updated_at = now() WHERE instance_id = $1 AND status = ANY($2)",
            instance_id,
            list(_IN_USE),
        )
        await conn.execute("DELETE FROM numa_pinned_cpus WHERE instance_id = $1", instance_id)
        await conn.execute("DELETE FROM numa_instance_cells WHERE instance_id = $1", instance_id)
