"""What the resize, cold migrate and rebuild workflows share: their dependencies, the
commands to cast once a transaction committed, notification names and the refusal of
a request in the wrong state.

A workflow step runs in the caller's transaction (the action's, a fact's, the sweep's)
and returns `Casts`: the agent commands to send after the commit, so an agent never
acts on a state that was rolled back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from conductor import lifecycle
from conductor.agents import Casts, cast_all
from conductor.db.queries import images, instance_actions
from conductor.db.types import Connection
from conductor.records import image_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from schemas.compute import Image, ImageLocation, ImageLocationKind
from schemas.errors import Conflict

AfterCommit = Callable[[], Awaitable[None]]
# what an action's start returns: the work to do once its transaction committed
Starter = Callable[[Connection, RequestContext, dict[str, Any], Any], Awaitable[AfterCommit]]

RESIZE_TASKS = ("resize_prep", "resize_migrating", "resize_finish")
VERIFY_TASKS = ("resize_confirming", "resize_reverting")
MOVE_TASKS = (*RESIZE_TASKS, *VERIFY_TASKS, "rebuilding")


@dataclass
class MoveDeps:
    pool: asyncpg.Pool
    client: Client
    action_timeout_s: float
    schedule_timeout_s: float
    image_dir: Path
    allow_resize_to_same_host: bool = False
    on_commit: Callable[[], None] = field(default=lambda: None)

    def deadline(self) -> Any:
        return lifecycle.deadline_in(self.action_timeout_s)

    async def cast(self, casts: Casts, request_id: str | None = None) -> None:
        context = RequestContext(request_id=request_id or RequestContext().request_id)
        await cast_all(self.client, casts, context)

    async def image(
        self, conn: Connection, image_id: UUID | None
    ) -> tuple[Image, ImageLocation] | None:
        if image_id is None:
            return None
        row = await images.get_image(conn, image_id)
        if row is None:
            return None
        path = row.get("location") or str(self.image_dir / str(image_id))
        return image_from_row(row), ImageLocation(kind=ImageLocationKind.FILE, path=path)


def move_event(migration: dict[str, Any], phase: str) -> str:
    """instance.resize.<phase> for a resize, instance.migrate.<phase> for a migration."""
    action = "resize" if migration["migration_type"] == "resize" else "migrate"
    return f"instance.{action}.{phase}"


def refuse(verb: str, row: dict[str, Any]) -> Conflict:
    state = row["vm_state"] + (f"/{row['task_state']}" if row["task_state"] else "")
    return Conflict(f"cannot {verb} server {row['id']} while it is {state}")


async def finish_action(
    conn: Connection, instance_id: UUID, request_id: str | None, message: str | None = None
) -> None:
    """Mark the user's action (the request that started the step) finished."""
    if request_id is None:
        return
    action = await instance_actions.get_action(conn, instance_id, request_id)
    if action is not None:
        await instance_actions.finish_action(conn, action["id"], message=message)
