"""Rebuild: the same instance on the same host from a (possibly new) image.

ACTIVE, SHUTOFF or ERROR with a host and no task: the image, name and metadata are
updated, task rebuilding, `instance.rebuild.start`, and `rebuild` (destroy, then spawn
with the same flavor and claim) cast to the host; the allocations stay as they are.
The agent's `instance.spawned` (a RUNNING power state while rebuilding,
transitions.py) makes it ACTIVE with `instance.rebuild.end`; a failure
(`action_failed` with action rebuild) or the deadline makes it ERROR with a fault
(resize_settle.py).
"""

from __future__ import annotations

from typing import Any

from conductor import lifecycle
from conductor.db.queries import instance_actions, instance_metadata, instances
from conductor.db.types import Connection
from conductor.moves import AfterCommit, MoveDeps, refuse
from conductor.servers import identity
from corebus.envelope import RequestContext
from schemas.claims import Claim
from schemas.compute import Flavor
from schemas.errors import NotFound
from schemas.messages import conductor_actions as actions
from schemas.messages.agent_compute import Rebuild

ALLOWED = ("active", "stopped", "error")


class Rebuilds:
    def __init__(self, deps: MoveDeps) -> None:
        self._d = deps

    async def start(
        self, conn: Connection, ctx: RequestContext, row: dict[str, Any], action: Any
    ) -> AfterCommit:
        assert isinstance(action, actions.Rebuild)
        project_id, user_id = identity(ctx)
        if row["task_state"] is not None or row["vm_state"] not in ALLOWED or not row["host"]:
            raise refuse("rebuild", row)
        image = await self._d.image(conn, action.image_id)
        if image is None or image[0].status != "active":
            raise NotFound(f"image {action.image_id} not found or not active")
        changes: dict[str, Any] = {"image_id": action.image_id}
        if action.name is not None:
            changes["name"] = action.name
        updated = await instances.update_state(
            conn,
            row["id"],
            task_state="rebuilding",
            task_deadline=self._d.deadline(),
            **changes,
        )
        assert updated is not None
        if action.metadata is not None:
            await instance_metadata.set_metadata(conn, row["id"], action.metadata, replace=True)
        await instance_actions.start_action(
            conn, row["id"], ctx.request_id, "rebuild", project_id=project_id, user_id=user_id
        )
        await lifecycle.emit(conn, "instance.rebuild.start", row["id"], ctx.request_id)
        flavor = Flavor.model_validate(row["flavor"])
        command = Rebuild(
            instance_id=row["id"],
            name=updated["name"],
            flavor=flavor,
            claim=Claim(vcpus=flavor.vcpus, memory_mb=flavor.memory_mb, disk_gb=flavor.disk_gb),
            image=image[0],
            image_location=image[1],
            preserve_ephemeral=action.preserve_ephemeral,
        )
        host, request_id = row["host"], ctx.request_id

        async def after() -> None:
            await self._d.cast([(host, command)], request_id)

        return after
