"""The deadline sweep: nothing stays in a task state past its deadline.

Every conductor sweeps; rows are taken FOR UPDATE SKIP LOCKED, so they share the work.
- scheduling/spawning: the attempt counts as failed; reschedule (safe: the allocations
  are released first) until `max_attempts`, then ERROR with a fault;
- deleting: the host never confirmed; the delete completes here (the agent's next
  snapshot shows any leftover domain as an orphan to clean up);
- resize, migrate, rebuild tasks: settled by move_facts.py (back to the source, or ERROR);
- any other task: cleared, the instance stays in its vm state, with a fault recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from conductor import lifecycle
from conductor.build import Builds
from conductor.db.queries import instance_actions, instances
from conductor.move_facts import Moves
from conductor.moves import Casts
from corebus.periodic import Periodic

log = logging.getLogger(__name__)


class DeadlineSweep:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        builds: Builds,
        *,
        interval_s: float,
        on_commit: Callable[[], None] = lambda: None,
        moves: Moves | None = None,
    ) -> None:
        self._pool = pool
        self._builds = builds
        self._moves = moves
        self._interval = interval_s
        self._on_commit = on_commit
        self._periodic = Periodic("deadline-sweep", interval_s, self.sweep)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def sweep(self) -> int:
        """Settle every expired task; how many there were. First, the builds running
        here keep their leases and those of conductors that are gone are resumed."""
        await self._builds.renew_leases()
        await self._builds.resume_stranded()
        retry: list[tuple[Any, str | None, str]] = []
        casts: Casts = []
        cleanup: Casts = []
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await instances.expired_deadlines(conn)
            for row in rows:
                what = f"timed out in task state {row['task_state']}"
                log.warning("instance %s %s", row["id"], what)
                if row["task_state"] in lifecycle.BUILDING:
                    retry.append((row["id"], row["host"], what))
                    # keep it in its state until the reschedule settles it
                    await instances.set_deadline(
                        conn, row["id"], lifecycle.deadline_in(self._interval * 30)
                    )
                elif row["task_state"] == "deleting":
                    cleanup += await lifecycle.finish_delete(conn, row["id"], None)
                elif self._moves is not None and self._moves.owns(row["task_state"]):
                    casts += await self._moves.expire(conn, row)
                else:
                    await instances.update_state(conn, row["id"], task_state=None)
                    await instance_actions.add_fault(
                        conn, row["id"], 500, what[:255], host=row["host"]
                    )
        if rows:
            self._on_commit()
        if self._moves is not None and casts:
            await self._moves.cast(casts)
        await self._builds.cast(cleanup, None)
        for instance_id, host, what in retry:
            await self._builds.reschedule(instance_id, host, what, None)
        return len(rows)
