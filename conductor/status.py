"""Says, in the log, what the conductor is waiting for: until node agents register
and heartbeat, a control plane can accept requests but place nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg

from conductor.db.queries import hosts as host_queries
from corebus.periodic import Periodic

log = logging.getLogger(__name__)


class StatusReporter:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, interval_s: float, down_after_s: float) -> None:
        self._pool = pool
        self._down_after = timedelta(seconds=down_after_s)
        self._periodic = Periodic("conductor-status", interval_s, self.report)
        self._last = ""

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def summary(self) -> str:
        async with self._pool.acquire() as conn:
            hosts = await host_queries.list_hosts(conn, down_after=self._down_after)
        up = [h["name"] for h in hosts if h["is_up"]]
        if not hosts:
            return "waiting for node agents to register (conductor.register_host): none yet"
        down = len(hosts) - len(up)
        return f"{len(up)} host(s) up ({', '.join(up[:5]) or '-'}), {down} down"

    async def report(self) -> None:
        """Log the summary when it changed."""
        line = await self.summary()
        if line != self._last:
            log.info(line)
            self._last = line
