"""Allocations: what a consumer (an instance) holds of each provider's resource classes.

`claim` is the optimistic concurrency point of scheduling: it bumps the generation of
every provider the plan relied on, each only if it still equals the generation the
scheduler saw (UPDATE ... WHERE id = $1 AND generation = $2), then writes the allocations,
all in one transaction. A stale plan raises GenerationConflict and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conductor.db.queries import host_devices
from conductor.db.queries.providers import bump_generation
from conductor.db.types import Connection, as_dicts


@dataclass(frozen=True)
class AllocationRequest:
    provider_id: UUID
    resource_class: str
    amount: int


async def claim(
    conn: Connection,
    consumer_id: UUID,
    allocations: Sequence[AllocationRequest],
    generations: Mapping[UUID, int],
) -> dict[UUID, int]:
    """Allocate for `consumer_id`; `generations` maps every provider the plan relied on
    (at least each one allocated from) to the generation seen. Returns the new generations.
    Raises GenerationConflict (nothing written) when any provider moved."""
    missing = {a.provider_id for a in allocations} - generations.keys()
    if missing:
        raise ValueError(f"no expected generation given for providers {sorted(map(str, missing))}")
    new: dict[UUID, int] = {}
    async with conn.transaction():
        for provider_id in sorted(generations):  # one lock order for every claimer
            new[provider_id] = await bump_generation(conn, provider_id, generations[provider_id])
        await conn.executemany(
            "INSERT INTO allocations (consumer_id, provider_id, resource_class, amount) "
            "VALUES ($1, $2, $3, $4)",
            [(consumer_id, a.provider_id, a.resource_class, a.amount) for a in allocations],
        )
    return new


async def release(conn: Connection, consumer_id: UUID) -> dict[UUID, int]:
    """Delete every allocation of `consumer_id`, bumping each provider's generation, and
    free the PCI devices, pinned CPUs and NUMA cell memory it holds; the providers
    released from and their new generations ({} when there was nothing)."""
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT DISTINCT provider_id FROM allocations WHERE consumer_id = $1", consumer_id
        )
        new: dict[UUID, int] = {}
        for provider_id in sorted(row["provider_id"] for row in rows):
            new[provider_id] = await bump_generation(conn, provider_id, None)
        await conn.execute("DELETE FROM allocations WHERE consumer_id = $1", consumer_id)
        await host_devices.release_instance(conn, consumer_id)
    return new


async def for_consumer(conn: Connection, consumer_id: UUID) -> list[dict[str, Any]]:
    return as_dicts(
        await conn.fetch(
            "SELECT provider_id, resource_class, amount, created_at FROM allocations "
            "WHERE consumer_id = $1 ORDER BY provider_id, resource_class",
            consumer_id,
        )
    )


async def usage_by_provider(
    conn: Connection, provider_ids: Sequence[UUID]
) -> dict[UUID, dict[str, int]]:
    """{provider: {resource class: amount allocated}}."""
    rows = await conn.fetch(
        "SELECT provider_id, resource_class, sum(amount)::bigint AS used FROM allocations "
        "WHERE provider_id = ANY($1) GROUP BY provider_id, resource_class",
        list(provider_ids),
    )
    result: dict[UUID, dict[str, int]] = {pid: {} for pid in provider_ids}
    for row in rows:
        result[row["provider_id"]][row["resource_class"]] = row["used"]
    return result
