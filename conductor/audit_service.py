"""The audit, run periodically by the conductors (`conductor.audit_interval_s`).

One conductor at a time runs it (a PostgreSQL advisory lock, tried, not waited for);
findings are logged as warnings with the summary line, and repaired when
`conductor.audit_repair` is set.
"""

from __future__ import annotations

import logging

import asyncpg

from conductor.audit import Report, audit
from corebus.bus import Bus
from corebus.periodic import Periodic

log = logging.getLogger(__name__)

AUDIT_LOCK = 0x5359_4D45_5341  # one conductor audits at a time


class AuditService:
    name = "conductor"

    def __init__(
        self, pool: asyncpg.Pool, bus: Bus, *, interval_s: float, repair: bool = False
    ) -> None:
        self._pool = pool
        self._bus = bus
        self._repair = repair
        self._periodic = Periodic("audit", interval_s, self.run_once)
        self.last: Report | None = None
        self._first = True

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def run_once(self) -> Report | None:
        """Audit unless another conductor is auditing right now (and not at start: the
        agents are still registering; the first audit comes one interval later)."""
        if self._first:
            self._first = False
            return None
        async with self._pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", AUDIT_LOCK):
                return None
            try:
                report = await audit(self._pool, self._bus, repair=self._repair)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", AUDIT_LOCK)
        for line in report.lines()[:-1]:
            log.warning("audit: %s", line)
        log.log(logging.WARNING if report.findings else logging.INFO, "%s", report.summary())
        self.last = report
        return report
