"""The deadline sweep for volumes and ports: no device task outlives its deadline.

Like conductor/sweep.py for instances (every conductor sweeps; rows are taken FOR
UPDATE SKIP LOCKED, so they share the work), as Cinder and Nova settle them:
- creating -> error; deleting -> error_deleting (the user may delete again);
- attaching -> rolled back: the attachment goes, the volume is available;
- detaching -> rolled back: the volume stays in-use (the user may detach again);
- a port attaching -> deleted (IP and quota freed); detaching -> stays attached.
The agent's next snapshot shows what a late agent did after all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from conductor import port_states, volume_states
from conductor.db.queries import ports, volumes
from corebus.periodic import Periodic

log = logging.getLogger(__name__)


async def settle_volume(conn: Any, row: dict[str, Any]) -> bool:
    status, volume_id = row["status"], row["id"]
    log.warning("volume %s timed out in status %s", volume_id, status)
    if status == "attaching":
        return await volume_states.rollback_attach(conn, volume_id, None)
    if status == "detaching":
        return await volume_states.rollback_detach(conn, volume_id, None)
    if status in ("creating", "deleting"):
        operation = "create" if status == "creating" else "delete"
        return await volume_states.failed(conn, volume_id, operation, None)
    await volumes.set_status(conn, volume_id, status, expected=(status,))  # drop the deadline
    return True


async def settle_port(conn: Any, row: dict[str, Any]) -> bool:
    log.warning("port %s timed out in task %s", row["id"], row["task_state"])
    if row["task_state"] == "attaching":
        return await port_states.rollback_attach(conn, row["id"], None)
    return await port_states.rollback_detach(conn, row["id"], None)


class DeviceSweep:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval_s: float,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._on_commit = on_commit
        self._periodic = Periodic("device-deadline-sweep", interval_s, self.sweep)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def sweep(self) -> int:
        """Settle every expired volume and port task; how many there were."""
        async with self._pool.acquire() as conn, conn.transaction():
            expired_volumes = await volumes.expired(conn)
            for row in expired_volumes:
                await settle_volume(conn, row)
            expired_ports = await ports.expired(conn)
            for row in expired_ports:
                await settle_port(conn, row)
        count = len(expired_volumes) + len(expired_ports)
        if count:
            self._on_commit()
        return count
