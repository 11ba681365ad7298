"""The facts and deadlines of resize, migrate and rebuild, for the fact ingestion
(ingest.py delegates to `on_fact` what `handles` claims) and the deadline sweep
(sweep.py delegates rows whose task `owns` says is ours to `expire`).

Step facts (`instance.resized`) are ordered per migration and host, apart from the
instance's power-state facts: a lifecycle event that overtakes a step report on the bus
must not make the step look stale.
"""

from __future__ import annotations

import logging
from typing import Any

from conductor.db.queries import facts, instances
from conductor.db.queries import migrations as migration_queries
from conductor.db.types import Connection
from conductor.moves import MOVE_TASKS, RESIZE_TASKS, VERIFY_TASKS, Casts, MoveDeps, Starter
from conductor.rebuild import Rebuilds
from conductor.resize import Resizes
from conductor.resize_settle import fail
from conductor.resize_verify import ResizeVerification
from corebus.envelope import RequestContext
from schemas.messages.facts import Fact, InstanceActionFailed, InstanceResized

log = logging.getLogger(__name__)

# the agent commands whose failure (instance.action_failed) is ours to settle
FAILED_ACTIONS = frozenset(
    {
        "resize_instance",
        "finish_resize",
        "confirm_resize",
        "revert_resize",
        "finish_revert_resize",
        "rebuild",
    }
)


class Moves:
    def __init__(self, deps: MoveDeps) -> None:
        self._d = deps
        self.resizes = Resizes(deps)
        self.verify = ResizeVerification(deps)
        self.rebuilds = Rebuilds(deps)
        self.applied = 0
        self.dropped = 0

    def starters(self) -> dict[str, Starter]:
        """ServerAction kinds -> their start (actions.py routes them here)."""
        return {
            "resize": self.resizes.start,
            "migrate": self.resizes.start,
            "confirm_resize": self.verify.start,
            "revert_resize": self.verify.start,
            "rebuild": self.rebuilds.start,
        }

    # -- facts ---------------------------------------------------------------------------
    @staticmethod
    def handles(fact: Fact) -> bool:
        return isinstance(fact, InstanceResized) or (
            isinstance(fact, InstanceActionFailed) and fact.action in FAILED_ACTIONS
        )

    async def on_fact(self, ctx: RequestContext, fact: Fact) -> None:
        casts: Casts = []
        request_id: str | None = None
        async with self._d.pool.acquire() as conn, conn.transaction():
            if isinstance(fact, InstanceResized):
                kind, key = "migration", fact.migration_id
            else:
                kind, key = "instance", fact.resource_id
            if not await facts.accept_fact(conn, kind, key, fact.host, fact.seq):
                self.dropped += 1
                return
            row = await instances.get_instance(conn, fact.resource_id, for_update=True)
            if row is None:
                self.dropped += 1
                return
            if isinstance(fact, InstanceResized):
                casts, request_id = await self._step(conn, row, fact)
            elif isinstance(fact, InstanceActionFailed) and _ours(row["task_state"], fact.action):
                casts = await fail(conn, row, f"{fact.action} failed on {fact.host}: {fact.reason}")
            self.applied += 1
        self._d.on_commit()
        await self._d.cast(casts, request_id)

    async def _step(
        self, conn: Connection, row: dict[str, Any], fact: InstanceResized
    ) -> tuple[Casts, str | None]:
        migration = await migration_queries.get(conn, fact.migration_id, for_update=True)
        if migration is None or migration["instance_id"] != row["id"]:
            self.dropped += 1
            return [], None
        steps = {
            "migrated": self.resizes.migrated,
            "finished": self.resizes.finished,
            "confirmed": self.verify.confirmed,
            "reverted": self.verify.reverted,
            "revert_finished": self.verify.revert_finished,
        }
        casts = await steps[fact.step](conn, row, migration, fact)
        return casts, migration["request_id"]

    # -- deadlines -----------------------------------------------------------------------
    @staticmethod
    def owns(task_state: str | None) -> bool:
        return task_state in MOVE_TASKS

    async def expire(self, conn: Connection, row: dict[str, Any]) -> Casts:
        """Settle a move or rebuild whose step passed its deadline (resize_settle.py)."""
        full = await instances.get_instance(conn, row["id"], for_update=True)
        if full is None:
            return []
        return await fail(conn, full, f"timed out in task state {row['task_state']}")

    async def cast(self, casts: Casts) -> None:
        await self._d.cast(casts)

    async def drain(self) -> None:
        await self.resizes.drain()


def _ours(task_state: str | None, action: str) -> bool:
    """Whether a failed `action` is about the task in progress."""
    if action == "rebuild":
        return task_state == "rebuilding"
    return task_state in (*RESIZE_TASKS, *VERIFY_TASKS)
