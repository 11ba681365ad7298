"""When a resize, migration or rebuild step fails or passes its deadline.

- before VERIFY_RESIZE (resize_prep, resize_migrating, resize_finish): back to the
  source, which still has its domain and disks: the destination's allocation is freed
  (and its copy destroyed), the source's given back to the instance, the instance keeps
  its old flavor and state, with a fault and instance.<resize|migrate>.error;
- resize_confirming: back to VERIFY_RESIZE with a fault (confirming again is safe);
- resize_reverting: where the instance runs is unknown: ERROR with a fault, the
  allocations stay held until the instance is deleted;
- rebuilding: ERROR with a fault and instance.rebuild.error.
"""

from __future__ import annotations

import logging
from typing import Any

from conductor import lifecycle
from conductor.db.queries import instance_actions, instances
from conductor.db.queries import migrations as migration_queries
from conductor.db.types import Connection
from conductor.moves import RESIZE_TASKS, Casts, finish_action, move_event
from conductor.resize_quota import settle_on
from schemas.messages.agent_compute import Destroy, PowerOn

log = logging.getLogger(__name__)


async def roll_back(conn: Connection, migration: dict[str, Any], reason: str) -> Casts:
    """Return a move that has not reached VERIFY_RESIZE to its source (see the module
    doc); the agent commands that undo what the hosts may have done."""
    instance_id = migration["instance_id"]
    row = await instances.get_instance(conn, instance_id, for_update=True)
    if row is None:
        return []
    source, dest = migration["source_host"], migration["dest_host"]
    if dest is not None:
        await migration_queries.release_on_host(conn, instance_id, dest)
    await migration_queries.move_allocations(conn, migration["id"], instance_id)
    await settle_on(conn, row["project_id"], migration, migration["old_flavor"])
    await migration_queries.update(conn, migration["id"], status="error")
    await instances.update_state(
        conn,
        instance_id,
        host=source,
        node=source,
        vm_state=migration["old_vm_state"],
        task_state=None,
    )
    await instance_actions.add_fault(conn, instance_id, 500, reason[:255], host=dest or source)
    await lifecycle.emit(conn, move_event(migration, "error"), instance_id, migration["request_id"])
    await finish_action(conn, instance_id, migration["request_id"], message="Error")
    casts: Casts = []
    if migration["status"] == "post-migrating" and dest is not None and dest != source:
        casts.append((dest, Destroy(instance_id=instance_id)))
    if (
        migration["status"] in ("migrating", "post-migrating")
        and migration["old_vm_state"] == "active"
    ):
        casts.append((source, PowerOn(instance_id=instance_id)))
    return casts


async def fail(conn: Connection, row: dict[str, Any], reason: str) -> Casts:
    """Settle the move or rebuild in progress on `row` after a failure (module doc)."""
    task = row["task_state"]
    instance_id = row["id"]
    migration = await migration_queries.in_progress(conn, instance_id, for_update=True)
    log.warning("instance %s: %s failed: %s", instance_id, task, reason)
    if task in RESIZE_TASKS and migration is not None:
        return await roll_back(conn, migration, reason)
    if task == "resize_confirming" and migration is not None:
        await migration_queries.update(conn, migration["id"], status="finished")
        await instances.update_state(conn, instance_id, task_state=None)
        await instance_actions.add_fault(conn, instance_id, 500, reason[:255], host=row["host"])
        await lifecycle.emit(
            conn, "instance.resize_confirm.error", instance_id, migration["request_id"]
        )
        return []
    event = "instance.rebuild.error" if task == "rebuilding" else None
    if task == "resize_reverting":
        event = "instance.resize_revert.error"
    if migration is not None and task != "rebuilding":
        await settle_on(conn, row["project_id"], migration, row["flavor"])
        await migration_queries.update(conn, migration["id"], status="error")
    await instances.update_state(conn, instance_id, vm_state="error", task_state=None)
    await instance_actions.add_fault(conn, instance_id, 500, reason[:255], host=row["host"])
    if event is not None:
        request_id = migration["request_id"] if migration is not None else None
        await lifecycle.emit(conn, event, instance_id, request_id)
    return []
