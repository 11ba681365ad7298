"""Host aggregates; `metadata.availability_zone` makes an aggregate an availability zone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one

_SELECT = """
SELECT a.*, ARRAY(SELECT h.name FROM aggregate_hosts ah JOIN hosts h ON h.id = ah.host_id
                  WHERE ah.aggregate_id = a.id ORDER BY h.name) AS hosts
FROM aggregates a"""


async def create_aggregate(
    conn: Connection, name: str, metadata: Mapping[str, str] | None = None
) -> dict[str, Any]:
    row = one(
        await conn.fetchrow(
            "INSERT INTO aggregates (name, metadata) VALUES ($1, $2) RETURNING id",
            name,
            dict(metadata or {}),
        )
    )
    return one(await conn.fetchrow(f"{_SELECT} WHERE a.id = $1", row["id"]))


async def get_aggregate(conn: Connection, aggregate_id: UUID) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow(f"{_SELECT} WHERE a.id = $1", aggregate_id))


async def list_aggregates(conn: Connection) -> list[dict[str, Any]]:
    return as_dicts(await conn.fetch(f"{_SELECT} ORDER BY a.name"))


async def update_metadata(
    conn: Connection, aggregate_id: UUID, set_: Mapping[str, str], remove: Iterable[str] = ()
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "UPDATE aggregates SET metadata = (metadata - $3::text[]) || $2, updated_at = now() "
        "WHERE id = $1 RETURNING id",
        aggregate_id,
        dict(set_),
        list(remove),
    )
    return None if row is None else await get_aggregate(conn, aggregate_id)


async def add_host(conn: Connection, aggregate_id: UUID, host_name: str) -> bool:
    """Add a host by name; False when the host is unknown."""
    status = await conn.execute(
        "INSERT INTO aggregate_hosts (aggregate_id, host_id) "
        "SELECT $1, id FROM hosts WHERE name = $2 ON CONFLICT DO NOTHING",
        aggregate_id,
        host_name,
    )
    if affected(status) == 1:
        return True
    return bool(await conn.fetchval("SELECT true FROM hosts WHERE name = $1", host_name))


async def remove_host(conn: Connection, aggregate_id: UUID, host_name: str) -> bool:
    status = await conn.execute(
        "DELETE FROM aggregate_hosts ah USING hosts h "
        "WHERE ah.host_id = h.id AND ah.aggregate_id = $1 AND h.name = $2",
        aggregate_id,
        host_name,
    )
    return affected(status) == 1


async def delete_aggregate(conn: Connection, aggregate_id: UUID) -> bool:
    return affected(await conn.execute("DELETE FROM aggregates WHERE id = $1", aggregate_id)) == 1


async def metadata_by_host(
    conn: Connection, host_ids: Sequence[UUID]
) -> dict[UUID, dict[str, dict[str, str]]]:
    """{host: {aggregate name: its metadata as strings}} for hosts in an aggregate: what
    `schemas.aggregate_fit.effective_inventory` reshapes their inventory with."""
    rows = await conn.fetch(
        "SELECT ah.host_id, a.name, a.metadata FROM aggregate_hosts ah "
        "JOIN aggregates a ON a.id = ah.aggregate_id WHERE ah.host_id = ANY($1)",
        list(host_ids),
    )
    found: dict[UUID, dict[str, dict[str, str]]] = {}
    for row in rows:
        meta = {key: str(value) for key, value in row["metadata"].items()}
        found.setdefault(row["host_id"], {})[row["name"]] = meta
    return found
