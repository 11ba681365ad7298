"""Resource providers (a root per host, nested ones for NUMA cells, PFs, VFs) and their
inventories. Every change to a provider's inventory or allocations bumps its generation;
a writer states the generation it read and is refused (GenerationConflict) when it moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, as_dict, as_dicts, one


class GenerationConflict(Exception):
    """The provider changed since the caller read it: refresh and retry."""

    def __init__(self, provider_id: UUID, expected: int | None, current: int | None) -> None:
        super().__init__(
            f"resource provider {provider_id} is at generation {current}, not {expected}"
        )
        self.provider_id = provider_id
        self.expected = expected
        self.current = current


class InventoryInUse(Exception):
    def __init__(self, provider_id: UUID, resource_classes: Sequence[str]) -> None:
        super().__init__(
            f"resource provider {provider_id} still has allocations of "
            f"{', '.join(resource_classes)}"
        )
        self.provider_id = provider_id
        self.resource_classes = list(resource_classes)


@dataclass(frozen=True)
class Inventory:
    """One resource class of a provider; `used` is the sum of its allocations."""

    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int | None = None  # None: the total
    step_size: int = 1
    allocation_ratio: float = 1.0
    used: int = 0


def inventory_from_row(row: Mapping[str, Any]) -> Inventory:
    return Inventory(
        total=row["total"],
        reserved=row["reserved"],
        min_unit=row["min_unit"],
        max_unit=row["max_unit"],
        step_size=row["step_size"],
        allocation_ratio=row["allocation_ratio"],
        used=row.get("used", 0),
    )


async def bump_generation(conn: Connection, provider_id: UUID, expected: int | None) -> int:
    """generation + 1 when it equals `expected` (None: whatever it is); the new generation.
    Raises GenerationConflict otherwise."""
    new = await conn.fetchval(
        "UPDATE resource_providers SET generation = generation + 1, updated_at = now() "
        "WHERE id = $1 AND ($2::bigint IS NULL OR generation = $2) RETURNING generation",
        provider_id,
        expected,
    )
    if new is None:
        current = await conn.fetchval(
            "SELECT generation FROM resource_providers WHERE id = $1", provider_id
        )
        raise GenerationConflict(provider_id, expected, current)
    return int(new)


async def ensure_child_provider(
    conn: Connection, *, host_id: UUID, parent_id: UUID, name: str, kind: str
) -> dict[str, Any]:
    """The nested provider called `name` under `parent_id`, created when missing."""
    return one(
        await conn.fetchrow(
            "INSERT INTO resource_providers (name, host_id, parent_provider_id, kind) "
            "VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (name) DO UPDATE SET parent_provider_id = excluded.parent_provider_id, "
            "kind = excluded.kind RETURNING *",
            name,
            host_id,
            parent_id,
            kind,
        )
    )


async def get_provider(conn: Connection, provider_id: UUID) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow("SELECT * FROM resource_providers WHERE id = $1", provider_id)
    )


async def list_providers(conn: Connection, host_id: UUID) -> list[dict[str, Any]]:
    """The host's providers, parents before children."""
    return as_dicts(
        await conn.fetch(
            "SELECT * FROM resource_providers WHERE host_id = $1 "
            "ORDER BY parent_provider_id IS NOT NULL, name",
            host_id,
        )
    )


async def set_inventories(
    conn: Connection,
    provider_id: UUID,
    inventories: Mapping[str, Inventory],
    *,
    expected_generation: int | None,
) -> int:
    """Replace the provider's inventories; the new generation. Raises GenerationConflict,
    or InventoryInUse when a resource class to remove still has allocations."""
    classes = sorted(inventories)
    async with conn.transaction():
        generation = await bump_generation(conn, provider_id, expected_generation)
        in_use = await conn.fetch(
            "SELECT DISTINCT resource_class FROM allocations "
            "WHERE provider_id = $1 AND NOT (resource_class = ANY($2)) ORDER BY 1",
            provider_id,
            classes,
        )
        if in_use:
            raise InventoryInUse(provider_id, [row["resource_class"] for row in in_use])
        await conn.execute(
            "DELETE FROM inventories WHERE provider_id = $1 AND NOT (resource_class = ANY($2))",
            provider_id,
            classes,
        )
        await conn.executemany(
            """
            INSERT INTO inventories (provider_id, resource_class, total, reserved, min_unit,
                                     max_unit, step_size, allocation_ratio)
            VALUES ($1, $2, $3, $4, $5, coalesce($6, greatest($3::bigint, 1)), $7, $8)
            ON CONFLICT (provider_id, resource_class) DO UPDATE SET
                total = excluded.total, reserved = excluded.reserved,
                min_unit = excluded.min_unit, max_unit = excluded.max_unit,
                step_size = excluded.step_size, allocation_ratio = excluded.allocation_ratio,
                updated_at = now()""",
            [
                (
                    provider_id,
                    rc,
                    inv.total,
                    inv.reserved,
                    inv.min_unit,
                    inv.max_unit,
                    inv.step_size,
                    inv.allocation_ratio,
                )
                for rc, inv in sorted(inventories.items())
            ],
        )
    return generation


async def inventories_with_usage(
    conn: Connection, provider_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Inventory]]:
    """{provider: {resource class: Inventory with `used`}} read now (inside a claim's
    transaction, after the generation bump, this is what the claim must fit into)."""
    rows = await conn.fetch(
        """
        SELECT i.*, coalesce(u.used, 0)::bigint AS used
        FROM inventories i
        LEFT JOIN (SELECT provider_id, resource_class, sum(amount) AS used
                   FROM allocations WHERE provider_id = ANY($1)
                   GROUP BY provider_id, resource_class) u
               USING (provider_id, resource_class)
        WHERE i.provider_id = ANY($1)""",
        list(provider_ids),
    )
    result: dict[UUID, dict[str, Inventory]] = {pid: {} for pid in provider_ids}
    for row in rows:
        result[row["provider_id"]][row["resource_class"]] = inventory_from_row(row)
    return result


@dataclass(frozen=True)
class RootProvider:
    host_id: UUID
    provider_id: UUID
    generation: int


async def root_providers(
    conn: Connection, host_ids: Sequence[UUID], *, lock: bool = False
) -> dict[UUID, RootProvider]:
    """{host: its root provider with the current generation}. With `lock` the rows are
    locked (FOR UPDATE, in provider-id order, the order every claimer uses) until the
    caller's transaction ends, so nothing else changes those hosts meanwhile."""
    rows = await conn.fetch(
        "SELECT id, host_id, generation FROM resource_providers "
        "WHERE host_id = ANY($1) AND parent_provider_id IS NULL ORDER BY id"
        + (" FOR UPDATE" if lock else ""),
        list(host_ids),
    )
    return {
        row["host_id"]: RootProvider(row["host_id"], row["id"], row["generation"]) for row in rows
    }
