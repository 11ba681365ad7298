"""Where the members of server groups are placed, read from their allocations (written
by the plan apply) rather than from `instances.host` (written later by the build), so
a member placed a moment ago already counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from conductor.db.types import Connection


async def placed_hosts(conn: Connection, group_id: UUID, excluding: Sequence[UUID]) -> list[str]:
    """The host of each live member holding allocations, once per member (a host holding
    two members appears twice), members in `excluding` left out."""
    rows = await conn.fetch(
        "SELECT DISTINCT m.instance_id, h.name FROM server_group_members m "
        "JOIN instances i ON i.id = m.instance_id AND NOT i.deleted "
        "JOIN allocations a ON a.consumer_id = m.instance_id "
        "JOIN resource_providers rp ON rp.id = a.provider_id "
        "JOIN hosts h ON h.id = rp.host_id "
        "WHERE m.group_id = $1 AND NOT (m.instance_id = ANY($2)) ORDER BY h.name",
        group_id,
        list(excluding),
    )
    return [row["name"] for row in rows]


async def lock_groups_of(
    conn: Connection, instance_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Any]]:
    """{instance: its group (id, policy, rules)} for the instances that are members,
    the group rows locked in id order (every placer locks them in that order)."""
    rows = await conn.fetch(
        "SELECT m.instance_id, g.id, g.policy, g.rules FROM server_group_members m "
        "JOIN server_groups g ON g.id = m.group_id WHERE m.instance_id = ANY($1) "
        "ORDER BY g.id FOR UPDATE OF g",
        list(instance_ids),
    )
    return {row["instance_id"]: dict(row) for row in rows}


async def host_names(conn: Connection, host_ids: Sequence[UUID]) -> dict[UUID, str]:
    rows = await conn.fetch("SELECT id, name FROM hosts WHERE id = ANY($1)", list(host_ids))
    return {row["id"]: row["name"] for row in rows}
