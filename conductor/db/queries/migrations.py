"""Migrations (resize and cold migrate records) and migration-based allocations.

While a move is in progress the source host's allocation is held by the migration id as
consumer and the destination's by the instance (0003_migrations.sql). `hold_for_migration`
and `give_back` move allocation rows between the two consumers (usage is unchanged, so
no generation moves); `release_on_host` frees one consumer's share of one host only,
PCI devices and NUMA pins included, because an instance holds devices on both hosts
during a move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from conductor.db.queries.providers import bump_generation
from conductor.db.types import Connection, affected, as_dict

IN_PROGRESS_EXCLUDED = ("confirmed", "reverted", "error")
MUTABLE = frozenset({"status", "dest_host", "dest_claim", "request_spec", "request_id"})


async def insert(
    conn: Connection,
    *,
    instance_id: UUID,
    migration_type: str,
    source_host: str,
    old_flavor: Mapping[str, Any],
    new_flavor: Mapping[str, Any],
    old_vm_state: str,
    request_spec: Mapping[str, Any],
    request_id: str | None,
    dest_host: str | None = None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO migrations (instance_id, migration_type, source_host, dest_host, "
        "old_flavor, new_flavor, old_vm_state, request_spec, request_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        instance_id,
        migration_type,
        source_host,
        dest_host,
        dict(old_flavor),
        dict(new_flavor),
        old_vm_state,
        dict(request_spec),
        request_id,
    )
    result = as_dict(row)
    assert result is not None
    return result


async def get(
    conn: Connection, migration_id: UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return as_dict(
        await conn.fetchrow(f"SELECT * FROM migrations WHERE id = $1{lock}", migration_id)
    )


async def in_progress(
    conn: Connection, instance_id: UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The instance's move that is neither confirmed, reverted nor failed, if any."""
    lock = " FOR UPDATE" if for_update else ""
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM migrations WHERE instance_id = $1 AND NOT (status = ANY($2)) "
            f"ORDER BY created_at DESC LIMIT 1{lock}",
            instance_id,
            list(IN_PROGRESS_EXCLUDED),
        )
    )


async def list_for_instance(conn: Connection, instance_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM migrations WHERE instance_id = $1 ORDER BY created_at DESC", instance_id
    )
    return [dict(row) for row in rows]


async def update(
    conn: Connection, migration_id: UUID, *, expected_status: str | None = None, **changes: Any
) -> dict[str, Any] | None:
    """Set `changes` (see MUTABLE) when the status is `expected_status` (if given)."""
    unknown = changes.keys() - MUTABLE
    if unknown:
        raise ValueError(f"migrations.update cannot set {sorted(unknown)}")
    values = list(changes.values())
    sets = [f"{column} = ${n}" for n, column in enumerate(changes, start=2)]
    sets.append("updated_at = now()")
    where = "id = $1"
    if expected_status is not None:
        values.append(expected_status)
        where += f" AND status = ${len(values) + 1}"
    return as_dict(
        await conn.fetchrow(
            f"UPDATE migrations SET {', '.join(sets)} WHERE {where} RETURNING *",
            migration_id,
            *values,
        )
    )


async def move_allocations(conn: Connection, from_consumer: UUID, to_consumer: UUID) -> int:
    """Hand every allocation of `from_consumer` to `to_consumer`; how many rows moved."""
    status = await conn.execute(
        "UPDATE allocations SET consumer_id = $2 WHERE consumer_id = $1", from_consumer, to_consumer
    )
    return affected(status)


async def release_on_host(conn: Connection, consumer_id: UUID, host: str) -> dict[UUID, int]:
    """Free what `consumer_id` holds on `host` only (allocations, PCI devices, NUMA pins),
    bumping the generation of each provider released from; idempotent."""
    host_id = await conn.fetchval("SELECT id FROM hosts WHERE name = $1", host)
    if host_id is None:
        return {}
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT DISTINCT a.provider_id FROM allocations a "
            "JOIN resource_providers rp ON rp.id = a.provider_id "
            "WHERE a.consumer_id = $1 AND rp.host_id = $2",
            consumer_id,
            host_id,
        )
        providers = sorted(row["provider_id"] for row in rows)
        new = {p: await bump_generation(conn, p, None) for p in providers}
        await conn.execute(
            "DELETE FROM allocations WHERE consumer_id = $1 AND provider_id = ANY($2)",
            consumer_id,
            providers,
        )
        await conn.execute(
            "UPDATE pci_devices SET status = 'available', instance_id = NULL, updated_at = now() "
            "WHERE instance_id = $1 AND host_id = $2 AND status IN ('claimed', 'allocated')",
            consumer_id,
            host_id,
        )
        await conn.execute(
            "DELETE FROM numa_pinned_cpus WHERE instance_id = $1 AND host_id = $2",
            consumer_id,
            host_id,
        )
        await conn.execute(
            "DELETE FROM numa_instance_cells WHERE instance_id = $1 AND host_id = $2",
            consumer_id,
            host_id,
        )
    return new


async def release_all(conn: Connection, instance_id: UUID) -> None:
    """Free what the instance's migrations hold (a deleted instance keeps nothing); the
    unfinished ones end in error."""
    ids = [
        row["id"]
        for row in await conn.fetch("SELECT id FROM migrations WHERE instance_id = $1", instance_id)
    ]
    if not ids:
        return
    providers = await conn.fetch(
        "SELECT DISTINCT provider_id FROM allocations WHERE consumer_id = ANY($1)", ids
    )
    for provider_id in sorted(row["provider_id"] for row in providers):
        await bump_generation(conn, provider_id, None)
    await conn.execute("DELETE FROM allocations WHERE consumer_id = ANY($1)", ids)
    await conn.execute(
        "UPDATE migrations SET status = 'error', updated_at = now() "
        "WHERE instance_id = $1 AND NOT (status = ANY($2))",
        instance_id,
        list(IN_PROGRESS_EXCLUDED),
    )
