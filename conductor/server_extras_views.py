"""Instance rows as `ServerView`s: each instance with its tags, ports, volumes, fault (when
in ERROR) and the state of its host, read with one query per kind for a whole page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from conductor.db.queries import instances, server_views
from conductor.records import instance_from_row, model_from_row
from corebus.envelope import RequestContext
from schemas.errors import Conflict, Forbidden, NotFound
from schemas.messages.conductor_server_extras import (
    HostStatus,
    ServerPort,
    ServerView,
    ServerVolume,
)

# Nova's states in which metadata and tags may change (nova/api/openstack/compute/server_tags.py)
EDITABLE_VM_STATES = frozenset(
    {"active", "paused", "suspended", "stopped", "shelved", "shelved_offloaded"}
)


async def views(conn: Any, rows: Sequence[dict[str, Any]], down_after_s: float) -> list[ServerView]:
    ids = [row["id"] for row in rows]
    ports = await server_views.ports_of_instances(conn, ids)
    volumes = await server_views.volumes_of_instances(conn, ids)
    faults = await server_views.latest_faults(
        conn, [row["id"] for row in rows if row["vm_state"] == "error"]
    )
    hosts = await server_views.host_states(
        conn, {row["host"] for row in rows if row["host"]}, down_after_s
    )
    return [
        ServerView(
            server=instance_from_row(row, faults.get(row["id"])),
            tags=tuple(row.get("tags") or ()),
            ports=tuple(model_from_row(ServerPort, p) for p in ports[row["id"]]),
            volumes=tuple(model_from_row(ServerVolume, v) for v in volumes[row["id"]]),
            host_status=_host_status(row["host"], hosts),
            user_data=row.get("user_data"),
        )
        for row in rows
    ]


def _host_status(host: str | None, states: dict[str, str]) -> HostStatus:
    if host is None:
        return HostStatus.NONE
    return HostStatus(states.get(host, HostStatus.UNKNOWN))


def scope(ctx: RequestContext) -> UUID | None:
    """The project whose servers the caller may touch (None: an admin, every project)."""
    if ctx.is_admin:
        return None
    if ctx.project_id is None or ctx.user_id is None:
        raise Forbidden("this request needs a user and a project")
    return ctx.project_id


async def owned(
    conn: Any,
    server_id: UUID,
    ctx: RequestContext,
    *,
    for_update: bool = False,
    include_deleted: bool = False,
) -> dict[str, Any]:
    """The server when the caller may see it; NotFound otherwise (also for another
    project's server, as Nova answers)."""
    row = await instances.get_instance(
        conn,
        server_id,
        project_id=scope(ctx),
        for_update=for_update,
        include_deleted=include_deleted,
    )
    if row is None:
        raise NotFound(f"Instance {server_id} could not be found.", server_id=str(server_id))
    return row


def check_editable(row: dict[str, Any], ctx: RequestContext, what: str) -> None:
    """Nova's checks before metadata or tags change: not locked (for non-admins) and in
    a settled state (409 otherwise)."""
    if row["locked"] and not ctx.is_admin:
        raise Conflict(f"Instance {row['id']} is locked")
    if row["vm_state"] not in EDITABLE_VM_STATES:
        raise Conflict(
            f"Cannot '{what}' instance {row['id']} while it is in vm_state {row['vm_state']}"
        )
