"""The scheduler's host view as the conductor answers it (`conductor.host_view`): each up
compute host with its inventory, usage and scheduling facts, read from one snapshot.

Schedulers keep their view current incrementally: a reply carries a cursor, and a
request with `changed_since` gets only the hosts changed since (the change log of
conductor/migrations/0009_host_changes.sql) plus `removed`, the hosts that left the view
(down now, deleted, or disabled when not asked for). A cursor older than the log's
retention gets a whole view with cursor 0, so the scheduler starts over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import host_changes, host_devices, host_view
from conductor.db.types import Connection
from conductor.host_inventory import build_inventory, build_usage
from schemas.messages.conductor_hosts import HostSnapshot, HostView, HostViewReply
from schemas.placement import Host
from schemas.scheduling import HostFacts

# what hosts.capabilities holds for the inventory; the other scalar entries are facts
_INVENTORY_CAPS = frozenset({"hypervisor_type", "cpu_model", "numa_sockets"})
_FACT_CAPS = frozenset({"hypervisor_version", "cpu_arch"})


async def read_host_view(conn: Connection, req: HostView, down_after: timedelta) -> HostViewReply:
    """The whole view, or with `req.changed_since` the changes since that cursor."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await host_changes.cursor(conn)
        since = req.changed_since
        if since is not None and await host_changes.missed(conn, since):
            return await _whole(conn, req, down_after, cursor=0)
        if since is None:
            return await _whole(conn, req, down_after, cursor=cursor)
        return await _changes(conn, req, down_after, since, cursor)


async def _whole(
    conn: Connection, req: HostView, down_after: timedelta, *, cursor: int
) -> HostViewReply:
    hosts = await snapshots(conn, req.host_ids, req.include_disabled, down_after)
    return HostViewReply(hosts=tuple(hosts), cursor=cursor)


async def _changes(
    conn: Connection, req: HostView, down_after: timedelta, since: int, cursor: int
) -> HostViewReply:
    changed = await host_changes.changed_since(conn, since)
    if req.host_ids is not None:
        changed &= set(req.host_ids)
    hosts = await snapshots(conn, sorted(changed), req.include_disabled, down_after)
    present = {snap.host.id for snap in hosts}
    removed = (changed | await host_changes.down_compute_hosts(conn, down_after)) - present
    return HostViewReply(hosts=tuple(hosts), removed=tuple(sorted(removed)), cursor=cursor)


async def snapshots(
    conn: Connection,
    host_ids: Sequence[UUID] | None,
    include_disabled: bool,
    down_after: timedelta,
) -> list[HostSnapshot]:
    """The up compute hosts (only `host_ids` when given) as snapshots; call inside the
    reading transaction."""
    views = await host_view.up_hosts(
        conn, ids=host_ids, down_after=down_after, include_disabled=include_disabled
    )
    views = [view for view in views if view.root is not None]
    ids = [view.id for view in views]
    devices = await host_devices.pci_devices(conn, ids)
    counts = await host_devices.consumer_counts(
        conn, [view.root_provider_id for view in views if view.root_provider_id]
    )
    return [_snapshot(view, devices[view.id], counts) for view in views]


def _snapshot(
    view: host_view.HostView, devices: Sequence[asyncpg.Record], counts: dict[UUID, int]
) -> HostSnapshot:
    root = view.root
    assert root is not None
    caps = view.capabilities
    cells = [asdict(cell) for cell in view.numa_cells]
    inventory = build_inventory(root.inventories, cells, devices, view.traits, caps)
    return HostSnapshot(
        host=Host(
            id=view.id,
            name=view.name,
            roles=frozenset(view.roles),
            availability_zone=view.availability_zone or "nova",
            aggregates=frozenset(view.aggregates),
            disabled=not view.enabled,
            generation=root.generation,
            inventory=inventory,
            last_heartbeat_at=view.last_heartbeat_at,
        ),
        usage=build_usage(root.inventories, cells, devices, counts.get(root.id, 0)),
        facts=facts(view.aggregates, caps, io_ops=view.io_ops, failed_builds=view.failed_builds),
    )


def facts(
    aggregates: Mapping[str, Mapping[str, Any]],
    caps: Mapping[str, Any],
    *,
    io_ops: int,
    failed_builds: int,
) -> HostFacts:
    """A host's scheduling facts: its aggregates' metadata (the same the plan apply
    reshapes the inventory with), what its agent reports beyond the inventory, and the
    work in flight there."""
    version = caps.get("hypervisor_version")
    arch = caps.get("cpu_arch")
    return HostFacts(
        aggregate_metadata={
            name: {key: str(value) for key, value in (meta or {}).items()}
            for name, meta in aggregates.items()
        },
        hypervisor_version=version if isinstance(version, int) and version >= 0 else None,
        cpu_arch=arch if isinstance(arch, str) and arch else None,
        capabilities={
            key: str(value)
            for key, value in caps.items()
            if key not in _INVENTORY_CAPS | _FACT_CAPS and isinstance(value, str | int | float)
        },
        io_ops=io_ops,
        failed_builds=failed_builds,
    )
