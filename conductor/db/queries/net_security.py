"""Security groups and their rules, and which groups a port is in.

Every project has one group named `default` (a partial unique index), made on first
use with Neutron's default rules: all egress for IPv4 and IPv6, and ingress from
members of the same group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from conductor.db.sql import Params
from conductor.db.types import Connection, as_dict, as_dicts

GROUP_SELECT = "SELECT g.* FROM security_groups g"

RULE_SELECT = """
SELECT r.id, r.security_group_id, g.project_id, r.direction, r.ethertype, r.protocol,
       r.port_range_min, r.port_range_max, r.remote_ip_prefix::text AS remote_ip_prefix,
       r.remote_group_id, r.description, r.revision_number, r.created_at, r.updated_at
FROM security_group_rules r JOIN security_groups g ON g.id = r.security_group_id"""

DEFAULT_RULES = (
    ("egress", "IPv4", False),
    ("egress", "IPv6", False),
    ("ingress", "IPv4", True),
    ("ingress", "IPv6", True),
)


async def ensure_default(conn: Connection, project_id: UUID) -> tuple[UUID, bool]:
    """The project's default group's id, and whether it was made just now."""
    created = await conn.fetchval(
        "INSERT INTO security_groups (project_id, name, description) "
        "VALUES ($1, 'default', 'Default security group') "
        "ON CONFLICT (project_id) WHERE name = 'default' DO NOTHING RETURNING id",
        project_id,
    )
    if created is None:
        group_id: UUID = await conn.fetchval(
            "SELECT id FROM security_groups WHERE project_id = $1 AND name = 'default'",
            project_id,
        )
        return group_id, False
    await conn.executemany(
        "INSERT INTO security_group_rules (security_group_id, direction, ethertype, "
        "remote_group_id) VALUES ($1, $2, $3, $4)",
        [(created, d, e, created if remote else None) for d, e, remote in DEFAULT_RULES],
    )
    return created, True


async def list_groups(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    params = Params(scope)
    where = ["($1::uuid IS NULL OR g.project_id = $1)"]
    for column in ("name", "project_id"):
        if filters.get(column) is not None:
            where.append(f"g.{column} = {params.add(filters[column])}")
    if filters.get("ids"):
        where.append(f"g.id = ANY({params.add(list(filters['ids']))}::uuid[])")
    return as_dicts(
        await conn.fetch(
            f"{GROUP_SELECT} WHERE {' AND '.join(where)} ORDER BY g.created_at, g.id",
            *params.values,
        )
    )


async def get_group(
    conn: Connection, group_id: UUID, scope: UUID | None, *, lock: bool = False
) -> dict[str, Any] | None:
    suffix = " FOR UPDATE" if lock else ""
    return as_dict(
        await conn.fetchrow(
            f"{GROUP_SELECT} WHERE g.id = $1 AND ($2::uuid IS NULL OR g.project_id = $2){suffix}",
            group_id,
            scope,
        )
    )


async def insert_group(
    conn: Connection, project_id: UUID, name: str, description: str, stateful: bool
) -> UUID:
    group_id: UUID = await conn.fetchval(
        "INSERT INTO security_groups (project_id, name, description, stateful) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        project_id,
        name,
        description,
        stateful,
    )
    return group_id


async def in_use(conn: Connection, group_id: UUID) -> int:
    """Ports in the group (they keep it from being deleted)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM port_security_groups WHERE security_group_id = $1", group_id
        )
    )


async def delete_group(conn: Connection, group_id: UUID) -> int:
    """Delete the group and its rules; the number of rules it had."""
    rules = int(
        await conn.fetchval(
            "SELECT count(*) FROM security_group_rules WHERE security_group_id = $1", group_id
        )
    )
    await conn.execute("DELETE FROM security_groups WHERE id = $1", group_id)
    return rules


async def list_rules(
    conn: Connection, scope: UUID | None, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    params = Params(scope)
    where = ["($1::uuid IS NULL OR g.project_id = $1)"]
    for column in ("security_group_id", "direction", "ethertype", "protocol"):
        if filters.get(column) is not None:
            where.append(f"r.{column} = {params.add(str(filters[column]))}")
    if filters.get("project_id") is not None:
        where.append(f"g.project_id = {params.add(filters['project_id'])}")
    if filters.get("ids"):
        where.append(f"r.id = ANY({params.add(list(filters['ids']))}::uuid[])")
    return as_dicts(
        await conn.fetch(
            f"{RULE_SELECT} WHERE {' AND '.join(where)} ORDER BY r.created_at, r.id",
            *params.values,
        )
    )


async def rules_of(conn: Connection, group_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    return as_dicts(
        await conn.fetch(
            f"{RULE_SELECT} WHERE r.security_group_id = ANY($1::uuid[]) "
            "ORDER BY r.created_at, r.id",
            list(group_ids),
        )
    )


async def get_rule(conn: Connection, rule_id: UUID, scope: UUID | None) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            f"{RULE_SELECT} WHERE r.id = $1 AND ($2::uuid IS NULL OR g.project_id = $2)",
            rule_id,
            scope,
        )
    )


async def insert_rule(conn: Connection, values: Mapping[str, Any]) -> UUID | None:
    """The new rule's id; None when an identical rule exists."""
    rule_id: UUID | None = await conn.fetchval(
        "INSERT INTO security_group_rules (security_group_id, direction, ethertype, protocol, "
        "port_range_min, port_range_max, remote_ip_prefix, remote_group_id, description) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::cidr, $8, $9) ON CONFLICT DO NOTHING RETURNING id",
        values["security_group_id"],
        str(values["direction"]),
        str(values["ethertype"]),
        values["protocol"],
        values["port_range_min"],
        values["port_range_max"],
        values["remote_ip_prefix"],
        values["remote_group_id"],
        values["description"],
    )
    return rule_id


async def duplicate_of(conn: Connection, values: Mapping[str, Any]) -> UUID | None:
    """The id of the existing rule identical to `values`."""
    found: UUID | None = await conn.fetchval(
        "SELECT id FROM security_group_rules WHERE security_group_id = $1 AND direction = $2 "
        "AND ethertype = $3 AND protocol IS NOT DISTINCT FROM $4 "
        "AND port_range_min IS NOT DISTINCT FROM $5 AND port_range_max IS NOT DISTINCT FROM $6 "
        "AND remote_ip_prefix IS NOT DISTINCT FROM $7::cidr "
        "AND remote_group_id IS NOT DISTINCT FROM $8",
        values["security_group_id"],
        str(values["direction"]),
        str(values["ethertype"]),
        values["protocol"],
        values["port_range_min"],
        values["port_range_max"],
        values["remote_ip_prefix"],
        values["remote_group_id"],
    )
    return found


async def delete_rule(conn: Connection, rule_id: UUID) -> None:
    await conn.execute("DELETE FROM security_group_rules WHERE id = $1", rule_id)


async def set_port_groups(conn: Connection, port_id: UUID, group_ids: Sequence[UUID]) -> None:
    await conn.execute("DELETE FROM port_security_groups WHERE port_id = $1", port_id)
    await conn.executemany(
        "INSERT INTO port_security_groups (port_id, security_group_id) VALUES ($1, $2)",
        [(port_id, group_id) for group_id in dict.fromkeys(group_ids)],
    )
