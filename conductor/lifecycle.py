"""State transitions shared by the workflows, the fact ingestion and the deadline sweep.
Each takes a connection inside the caller's transaction and writes the instance row,
its allocations, quota, fault and outbox notification together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from conductor import notify, resize_quota, server_devices
from conductor.agents import Casts
from conductor.db.queries import allocations, instance_actions, instances, migrations, quotas
from conductor.db.types import Connection
from conductor.records import instance_from_row

# Task states of a build in flight: its domain may not exist yet.
BUILDING = ("scheduling", "spawning", "networking", "block_device_mapping")
# How long the storage agent has to delete a volume deleted with its server; past it
# the volume is error_deleting, which its owner may delete again.
VOLUME_DELETE_S = 300.0


def deadline_in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def quota_deltas(row: dict[str, Any]) -> dict[str, int]:
    """What one instance counts against its project's quota."""
    flavor = row["flavor"]
    return {"instances": 1, "cores": int(flavor["vcpus"]), "ram": int(flavor["memory_mb"])}


async def emit(
    conn: Connection, event_type: str, instance_id: UUID, request_id: str | None
) -> None:
    row = await instances.get_instance(conn, instance_id, include_deleted=True)
    if row is None:
        return
    fault = await instance_actions.latest_fault(conn, instance_id)
    instance = instance_from_row(row, fault if row["vm_state"] == "error" else None)
    await notify.instance_event(conn, event_type, instance, request_id=request_id)


async def fail_build(
    conn: Connection,
    instance_id: UUID,
    message: str,
    *,
    host: str | None = None,
    details: str = "",
    request_id: str | None = None,
) -> bool:
    """ERROR with a fault the user can read; allocations released (quota stays used, as
    in Nova, until the user deletes the instance). False when no build was in progress."""
    row = await instances.update_state(
        conn,
        instance_id,
        expected_task_state=BUILDING,
        vm_state="error",
        task_state=None,
    )
    if row is None:
        return False
    await allocations.release(conn, instance_id)
    await instance_actions.finish_latest(conn, instance_id, "create", message="Error")
    await instance_actions.add_fault(
        conn, instance_id, 500, message[:255], details=details, host=host
    )
    await emit(conn, "instance.create.error", instance_id, request_id)
    return True


async def finish_delete(conn: Connection, instance_id: UUID, request_id: str | None) -> Casts:
    """The instance is gone: free its allocations (its migrations' too) and quota,
    soft-delete the row, release its ports and volumes. The agent commands that clean
    up after it (conductor/server_devices.py), for the caller to cast once committed."""
    moving = await migrations.in_progress(conn, instance_id)
    row = await instances.mark_deleted(conn, instance_id)
    if row is None:
        return []
    if moving is not None:  # deleted mid-resize: the larger flavor was counted
        await resize_quota.settle_on(conn, row["project_id"], moving, row["flavor"])
    await migrations.release_all(conn, instance_id)
    await allocations.release(conn, instance_id)
    await quotas.release(conn, row["project_id"], quota_deltas(row))
    casts = await server_devices.release(conn, instance_id, deadline_in(VOLUME_DELETE_S))
    await emit(conn, "instance.delete.end", instance_id, request_id)
    return casts
