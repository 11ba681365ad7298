"""What the compute API shows with servers, read for many servers at once: their ports
with fixed IPs and network names, live volume attachments, the newest fault, the state
of their hosts; and the server listing with Nova's regular-expression name filter."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any
from uuid import UUID

from conductor.db.queries.instance_list import InstanceFilter, _where
from conductor.db.queries.instances import INSTANCE_SELECT
from conductor.db.queries.volumes import LIVE_ATTACHMENT
from conductor.db.sql import Params
from conductor.db.types import Connection, as_dicts


async def search_instances(
    conn: Connection,
    project_id: UUID | None,
    filters: InstanceFilter,
    *,
    name_regex: str | None = None,
    limit: int = 1000,
    marker: UUID | None = None,
) -> list[dict[str, Any]]:
    """Instances of `project_id` (None: every project), newest first, whose name matches
    `name_regex` (PostgreSQL `~`, as Nova filters on PostgreSQL); `marker` is the id of
    the last instance of the previous page."""
    params = Params()
    where = _where(project_id, replace(filters, name=None), params)
    if name_regex:
        where.append(f"i.name ~ {params.add(name_regex)}")
    if marker is not None:
        m = params.add(marker)
        where.append(
            f"(i.created_at, i.id) < (SELECT created_at, id FROM instances WHERE id = {m})"
        )
    sql = (
        f"{INSTANCE_SELECT} WHERE {' AND '.join(where)} "
        f"ORDER BY i.created_at DESC, i.id DESC LIMIT {params.add(limit)}"
    )
    return as_dicts(await conn.fetch(sql, *params.values))


async def marker_exists(conn: Connection, marker: UUID, project_id: UUID | None) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM instances WHERE id = $1 AND ($2::uuid IS NULL OR project_id = $2)",
        marker,
        project_id,
    )
    return bool(found)


async def ports_of_instances(
    conn: Connection, instance_ids: Collection[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """Each instance's ports (oldest first) with `network_name`, `fixed_ips` and the
    `floating_ips` associated with them."""
    rows = await conn.fetch(
        """
        SELECT p.id AS port_id, p.network_id, n.name AS network_name,
               p.mac_address::text AS mac_address, p.status, p.device_id,
               coalesce((SELECT jsonb_agg(jsonb_build_object(
                                 'subnet_id', a.subnet_id, 'ip_address', host(a.ip_address))
                                 ORDER BY a.ip_address)
                         FROM ip_allocations a WHERE a.port_id = p.id), '[]') AS fixed_ips,
               coalesce((SELECT jsonb_agg(host(f.floating_ip_address)
                                 ORDER BY f.floating_ip_address)
                         FROM floating_ips f WHERE f.fixed_port_id = p.id), '[]') AS floating_ips
        FROM ports p JOIN networks n ON n.id = p.network_id
        WHERE p.device_id = ANY($1::text[])
        ORDER BY p.created_at, p.id""",
        [str(i) for i in instance_ids],
    )
    found: dict[UUID, list[dict[str, Any]]] = {i: [] for i in instance_ids}
    for row in rows:
        found[UUID(row["device_id"])].append(dict(row))
    return found


async def volumes_of_instances(
    conn: Connection, instance_ids: Collection[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    """Each instance's live volume attachments, oldest first."""
    rows = await conn.fetch(
        "SELECT id AS attachment_id, volume_id, instance_id, device, status, boot_index, "
        "delete_on_termination FROM volume_attachments "
        "WHERE instance_id = ANY($1) AND status = ANY($2) ORDER BY created_at, id",
        list(instance_ids),
        list(LIVE_ATTACHMENT),
    )
    found: dict[UUID, list[dict[str, Any]]] = {i: [] for i in instance_ids}
    for row in rows:
        found[row["instance_id"]].append(dict(row))
    return found


async def latest_faults(
    conn: Connection, instance_ids: Collection[UUID]
) -> dict[UUID, dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT DISTINCT ON (instance_id) * FROM instance_faults WHERE instance_id = ANY($1) "
        "ORDER BY instance_id, created_at DESC, id DESC",
        list(instance_ids),
    )
    return {row["instance_id"]: dict(row) for row in rows}


async def host_states(
    conn: Connection, hosts: Collection[str], down_after_s: float
) -> dict[str, str]:
    """Nova's host_status of each host: DOWN (forced down or no heartbeat for
    `down_after_s`), MAINTENANCE (disabled) or UP."""
    rows = await conn.fetch(
        """
        SELECT name, CASE
                 WHEN forced_down OR last_heartbeat_at < now() - make_interval(secs => $2)
                     THEN 'DOWN'
                 WHEN NOT enabled THEN 'MAINTENANCE'
                 ELSE 'UP' END AS status
        FROM hosts WHERE name = ANY($1)""",
        list(hosts),
        down_after_s,
    )
    return {row["name"]: row["status"] for row in rows}


async def newest_action_id(conn: Connection, instance_id: UUID) -> int | None:
    """The id of the instance's newest action (whatever its kind)."""
    found: int | None = await conn.fetchval(
        "SELECT id FROM instance_actions WHERE instance_id = $1 "
        "ORDER BY start_time DESC, id DESC LIMIT 1",
        instance_id,
    )
    return found
