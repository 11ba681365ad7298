"""The scheduler's host view: every up, enabled compute host with its providers,
inventories and usage, traits, aggregates, free PCI devices and NUMA cells. Read in a few
set-based queries (not per host) and assembled here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from conductor.db.queries.hosts import DOWN_AFTER
from conductor.db.queries.providers import Inventory, inventory_from_row
from conductor.db.types import Connection


@dataclass(frozen=True)
class ProviderView:
    id: UUID
    name: str
    parent_id: UUID | None
    kind: str
    generation: int
    inventories: dict[str, Inventory] = field(default_factory=dict)


@dataclass(frozen=True)
class PciPool:
    """Devices of one kind on a host: how many exist and how many are free."""

    vendor_id: str
    product_id: str
    dev_type: str
    physical_network: str | None
    numa_node: int | None
    total: int
    free: int


@dataclass(frozen=True)
class NumaCellView:
    cell_id: int
    cpuset: tuple[int, ...]
    pcpuset: tuple[int, ...]
    pinned: tuple[int, ...]
    memory_mb: int
    memory_used_mb: int


@dataclass(frozen=True)
class HostView:
    id: UUID
    name: str
    roles: tuple[str, ...]
    availability_zone: str | None
    enabled: bool
    last_heartbeat_at: datetime
    root_provider_id: UUID | None
    num_instances: int
    traits: frozenset[str]
    aggregates: dict[str, dict[str, str]]  # name -> metadata
    capabilities: dict[str, Any]
    io_ops: int  # instances here with a task in flight
    failed_builds: int  # builds failed here since the last one that succeeded
    providers: dict[UUID, ProviderView] = field(default_factory=dict)
    pci_pools: list[PciPool] = field(default_factory=list)
    numa_cells: list[NumaCellView] = field(default_factory=list)

    @property
    def root(self) -> ProviderView | None:
        return None if self.root_provider_id is None else self.providers.get(self.root_provider_id)


_HOSTS = """
SELECT h.id, h.name, h.roles, h.enabled, h.last_heartbeat_at,
       -- an operator's aggregate zone wins over the one the agent registered with
       -- (the same rule as conductor/db/queries/admin_hosts.py ZONE_OF_HOST)
       coalesce((SELECT a.availability_zone FROM aggregate_hosts ah JOIN aggregates a
                 ON a.id = ah.aggregate_id WHERE ah.host_id = h.id
                 AND a.availability_zone IS NOT NULL ORDER BY a.name LIMIT 1),
                h.availability_zone)
           AS availability_zone,
       (SELECT rp.id FROM resource_providers rp
        WHERE rp.host_id = h.id AND rp.parent_provider_id IS NULL) AS root_provider_id,
       (SELECT count(*) FROM instances i WHERE i.host = h.name AND NOT i.deleted)
           AS num_instances,
       (SELECT count(*) FROM instances i WHERE i.host = h.name AND NOT i.deleted
        AND i.task_state IS NOT NULL) AS io_ops,
       h.capabilities, h.failed_builds,
       ARRAY(SELECT t.trait FROM host_traits t WHERE t.host_id = h.id) AS traits,
       coalesce((SELECT jsonb_object_agg(a.name, a.metadata) FROM aggregate_hosts ah
                 JOIN aggregates a ON a.id = ah.aggregate_id WHERE ah.host_id = h.id),
                '{}'::jsonb) AS aggregates
FROM hosts h
WHERE 'compute' = ANY(h.roles) AND NOT h.forced_down
  AND h.last_heartbeat_at > now() - $1::interval
  AND ($2 OR h.enabled)
  AND ($3::text[] IS NULL OR h.name = ANY($3))
  AND ($4::uuid[] IS NULL OR h.id = ANY($4))
ORDER BY h.name"""

_PROVIDERS = """
SELECT rp.id AS provider_id, rp.host_id, rp.name, rp.parent_provider_id, rp.kind,
       rp.generation, i.resource_class, i.total, i.reserved, i.min_unit, i.max_unit,
       i.step_size, i.allocation_ratio,
       coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.provider_id = rp.id
                 AND a.resource_class = i.resource_class), 0)::bigint AS used
FROM resource_providers rp
LEFT JOIN inventories i ON i.provider_id = rp.id
WHERE rp.host_id = ANY($1)
ORDER BY rp.host_id, rp.parent_provider_id IS NOT NULL, rp.name"""

_PCI = """
SELECT host_id, vendor_id, product_id, dev_type, physical_network, numa_node,
       count(*) AS total, count(*) FILTER (WHERE status = 'available') AS free
FROM pci_devices WHERE host_id = ANY($1) AND status <> 'removed'
GROUP BY host_id, vendor_id, product_id, dev_type, physical_network, numa_node
ORDER BY host_id, vendor_id, product_id, dev_type"""

_NUMA = """
SELECT c.host_id, c.cell_id, c.cpuset, c.pcpuset, c.memory_mb,
       ARRAY(SELECT p.cpu FROM numa_pinned_cpus p WHERE p.host_id = c.host_id
             AND p.cell_id = c.cell_id ORDER BY p.cpu) AS pinned,
       coalesce((SELECT sum(m.memory_mb) FROM numa_instance_cells m
                 WHERE m.host_id = c.host_id AND m.cell_id = c.cell_id), 0)::bigint
           AS memory_used_mb
FROM numa_cells c WHERE c.host_id = ANY($1) ORDER BY c.host_id, c.cell_id"""


def _providers(rows: Sequence[Any]) -> dict[UUID, dict[UUID, ProviderView]]:
    by_host: dict[UUID, dict[UUID, ProviderView]] = {}
    for row in rows:
        providers = by_host.setdefault(row["host_id"], {})
        view = providers.get(row["provider_id"])
        if view is None:
            view = providers[row["provider_id"]] = ProviderView(
                id=row["provider_id"],
                name=row["name"],
                parent_id=row["parent_provider_id"],
                kind=row["kind"],
                generation=row["generation"],
            )
        if row["resource_class"] is not None:
            view.inventories[row["resource_class"]] = inventory_from_row(row)
    return by_host


async def up_hosts(
    conn: Connection,
    *,
    names: Sequence[str] | None = None,
    ids: Sequence[UUID] | None = None,
    down_after: timedelta = DOWN_AFTER,
    include_disabled: bool = False,
) -> list[HostView]:
    """The compute hosts a scheduler may place on (optionally only `names` or `ids`),
    by name, read from one snapshot (a read-only repeatable-read transaction unless the
    caller already runs one)."""
    if conn.is_in_transaction():
        return await _read(conn, names, ids, down_after, include_disabled)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _read(conn, names, ids, down_after, include_disabled)


async def _read(
    conn: Connection,
    names: Sequence[str] | None,
    ids: Sequence[UUID] | None,
    down_after: timedelta,
    include_disabled: bool,
) -> list[HostView]:
    hosts = await conn.fetch(
        _HOSTS,
        down_after,
        include_disabled,
        None if names is None else list(names),
        None if ids is None else list(ids),
    )
    ids = [row["id"] for row in hosts]
    providers = _providers(await conn.fetch(_PROVIDERS, ids))
    pci: dict[UUID, list[PciPool]] = {}
    for row in await conn.fetch(_PCI, ids):
        pool = {k: row[k] for k in PciPool.__dataclass_fields__}
        pci.setdefault(row["host_id"], []).append(PciPool(**pool))
    numa: dict[UUID, list[NumaCellView]] = {}
    for row in await conn.fetch(_NUMA, ids):
        numa.setdefault(row["host_id"], []).append(
            NumaCellView(
                cell_id=row["cell_id"],
                cpuset=tuple(row["cpuset"]),
                pcpuset=tuple(row["pcpuset"]),
                pinned=tuple(row["pinned"]),
                memory_mb=row["memory_mb"],
                memory_used_mb=row["memory_used_mb"],
            )
        )
    return [
        HostView(
            id=row["id"],
            name=row["name"],
            roles=tuple(row["roles"]),
            availability_zone=row["availability_zone"],
            enabled=row["enabled"],
            last_heartbeat_at=row["last_heartbeat_at"],
            root_provider_id=row["root_provider_id"],
            num_instances=row["num_instances"],
            traits=frozenset(row["traits"]),
            aggregates=row["aggregates"],
            capabilities=row["capabilities"],
            io_ops=row["io_ops"],
            failed_builds=row["failed_builds"],
            providers=providers.get(row["id"], {}),
            pci_pools=pci.get(row["id"], []),
            numa_cells=numa.get(row["id"], []),
        )
        for row in hosts
    ]
