"""A compute host's inventory in the database, and back as the schemas the scheduler and
the plan apply reason about (HostInventory, HostUsage).

Stored as: VCPU / MEMORY_MB / DISK_GB inventories on the host's root resource provider
(total, reserved, allocation ratio); NUMA cells (`numa_cells`, the dedicated CPUs as
`pcpuset`); PCI devices (`pci_devices`); traits (`host_traits`); hypervisor type, CPU
model and the socket of each NUMA cell in the host's `capabilities`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conductor.db.queries import aggregates, host_devices, providers
from conductor.db.queries import hosts as host_queries
from conductor.db.queries.host_devices import NumaCellRow, PciDeviceRow
from conductor.db.queries.providers import Inventory
from conductor.db.types import Connection
from schemas.aggregate_fit import effective_inventory
from schemas.numa import NumaCell
from schemas.pci import PciDevice, PciDeviceStatus
from schemas.placement import HostInventory, HostUsage, NumaCellUsage

VCPU, MEMORY_MB, DISK_GB = "VCPU", "MEMORY_MB", "DISK_GB"
_IN_USE = frozenset({"claimed", "allocated"})


@dataclass(frozen=True)
class HostResources:
    """What a host offers and what is taken of it, read in one transaction."""

    host_id: UUID
    provider_id: UUID
    generation: int
    inventory: HostInventory
    usage: HostUsage


def capabilities(inventory: HostInventory) -> dict[str, Any]:
    """The parts of an inventory kept in `hosts.capabilities`."""
    return {
        "hypervisor_type": inventory.hypervisor_type,
        "cpu_model": inventory.cpu_model,
        "numa_sockets": {
            str(cell.id): cell.socket for cell in inventory.numa_cells if cell.socket is not None
        },
    }


async def save_inventory(
    conn: Connection,
    host_id: UUID,
    provider_id: UUID,
    inventory: HostInventory,
    *,
    expected_generation: int | None = None,
) -> int:
    """Write the inventory (amounts, NUMA cells, PCI devices, traits) in one transaction;
    the root provider's new generation (bumped, so plans made before are re-checked)."""
    inv = inventory
    amounts = {
        VCPU: Inventory(inv.vcpus, inv.reserved_vcpus, allocation_ratio=inv.cpu_allocation_ratio),
        MEMORY_MB: Inventory(
            inv.memory_mb, inv.reserved_memory_mb, allocation_ratio=inv.ram_allocation_ratio
        ),
        DISK_GB: Inventory(
            inv.disk_gb, inv.reserved_disk_gb, allocation_ratio=inv.disk_allocation_ratio
        ),
    }
    cells = [NumaCellRow(c.id, tuple(sorted(c.cpus)), c.memory_mb) for c in inv.numa_cells]
    devices = [
        PciDeviceRow(
            address=d.address,
            vendor_id=d.vendor_id,
            product_id=d.product_id,
            dev_type=d.dev_type.value,
            parent_addr=d.parent_addr,
            physical_network=d.physical_network,
            numa_node=d.numa_node,
            status=d.status.value if d.status.value not in _IN_USE else "available",
            label=d.label,
        )
        for d in inv.pci_devices
    ]
    async with conn.transaction():
        generation = await providers.set_inventories(
            conn, provider_id, amounts, expected_generation=expected_generation
        )
        await host_devices.set_numa_cells(conn, host_id, cells)
        await host_devices.set_pci_devices(conn, host_id, provider_id, devices)
        await host_queries.set_traits(conn, host_id, inv.traits)
    return generation


def build_inventory(
    amounts: Mapping[str, Inventory],
    cells: Sequence[Mapping[str, Any]],
    devices: Sequence[Mapping[str, Any]],
    traits: frozenset[str],
    caps: Mapping[str, Any],
) -> HostInventory:
    """A HostInventory from the rows of one host (`cells` with `cell_id`, `pcpuset`,
    `memory_mb`; `devices` as host_devices.pci_devices returns them)."""
    none = Inventory(total=0)
    vcpu, ram, disk = (amounts.get(rc, none) for rc in (VCPU, MEMORY_MB, DISK_GB))
    sockets = caps.get("numa_sockets") or {}
    return HostInventory(
        vcpus=vcpu.total,
        memory_mb=ram.total,
        disk_gb=disk.total,
        cpu_allocation_ratio=vcpu.allocation_ratio,
        ram_allocation_ratio=ram.allocation_ratio,
        disk_allocation_ratio=disk.allocation_ratio,
        reserved_vcpus=min(vcpu.reserved, vcpu.total),
        reserved_memory_mb=min(ram.reserved, ram.total),
        reserved_disk_gb=min(disk.reserved, disk.total),
        numa_cells=tuple(
            NumaCell(
                id=c["cell_id"],
                socket=sockets.get(str(c["cell_id"])),
                cpus=frozenset(c["pcpuset"]),
                memory_mb=c["memory_mb"],
            )
            for c in cells
        ),
        pci_devices=tuple(_device(d) for d in devices),
        traits=traits,
        hypervisor_type=caps.get("hypervisor_type") or "QEMU",
        cpu_model=caps.get("cpu_model"),
    )


def _device(row: Mapping[str, Any]) -> PciDevice:
    status = row["status"]
    return PciDevice(
        address=row["address"],
        vendor_id=row["vendor_id"],
        product_id=row["product_id"],
        dev_type=row["dev_type"],
        parent_addr=row["parent_addr"],
        physical_network=row["physical_network"],
        numa_node=row["numa_node"],
        # a device held by an instance is available as far as the agent knows;
        # that it is taken is usage (HostUsage.pci_devices)
        status=PciDeviceStatus.AVAILABLE if status in _IN_USE else PciDeviceStatus(status),
        label=row["label"],
    )


def build_usage(
    amounts: Mapping[str, Inventory],
    cells: Sequence[Mapping[str, Any]],
    devices: Sequence[Mapping[str, Any]],
    instances: int,
) -> HostUsage:
    """A HostUsage from the same rows (`cells` with `pinned` and `memory_used_mb`)."""
    none = Inventory(total=0)
    return HostUsage(
        vcpus=amounts.get(VCPU, none).used,
        memory_mb=amounts.get(MEMORY_MB, none).used,
        disk_gb=amounts.get(DISK_GB, none).used,
        pci_devices=frozenset(d["address"] for d in devices if d["status"] in _IN_USE),
        numa_cells=tuple(
            NumaCellUsage(
                cell_id=c["cell_id"],
                pinned_cpus=frozenset(c["pinned"]),
                memory_mb=c["memory_used_mb"],
            )
            for c in cells
        ),
        instances=instances,
    )


async def load_resources(conn: Connection, host_ids: Sequence[UUID]) -> dict[UUID, HostResources]:
    """Inventory and usage of each host, read now (inside the plan apply's transaction,
    after the root providers are locked, this is what the plan must fit into). The
    inventory is the effective one: reshaped by the host's aggregates' ratios and reserved
    amounts exactly as the scheduler's host state reshapes it."""
    roots = await providers.root_providers(conn, host_ids)
    provider_ids = [root.provider_id for root in roots.values()]
    amounts = await providers.inventories_with_usage(conn, provider_ids)
    cells = await host_devices.numa_cells(conn, list(roots))
    devices = await host_devices.pci_devices(conn, list(roots))
    counts = await host_devices.consumer_counts(conn, provider_ids)
    caps = await host_queries.capabilities_of(conn, list(roots))
    metadata = await aggregates.metadata_by_host(conn, list(roots))
    result = {}
    for host_id, root in roots.items():
        mine = amounts.get(root.provider_id, {})
        result[host_id] = HostResources(
            host_id=host_id,
            provider_id=root.provider_id,
            generation=root.generation,
            inventory=effective_inventory(
                build_inventory(
                    mine, cells[host_id], devices[host_id], frozenset(), caps.get(host_id, {})
                ),
                metadata.get(host_id, {}),
            ),
            usage=build_usage(
                mine, cells[host_id], devices[host_id], counts.get(root.provider_id, 0)
            ),
        )
    return result
