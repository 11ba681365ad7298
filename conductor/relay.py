"""The outbox relay: publishes committed notifications to `skymesh.notifications`.

One relay at a time holds a PostgreSQL advisory lock on its own connection (the others
stand by and take over when that connection goes away), so sequence numbers reach the
exchange in order. A row is marked published only after the broker confirmed it; after
a crash the same numbers are published again, and subscribers drop what they have seen
(the envelope's message id is `notification-<seq>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from conductor.db.queries import outbox
from corebus.bus import Bus
from corebus.envelope import Envelope, Kind, RequestContext

log = logging.getLogger(__name__)

RELAY_LOCK = 0x5359_4D45_5348  # "SYMESH": one advisory lock key for the relay leader


class OutboxRelay:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, bus: Bus, *, idle_poll_s: float = 0.2) -> None:
        self._pool = pool
        self._bus = bus
        self._idle = idle_poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def wake(self) -> None:
        """Something was just committed to the outbox: look now, not at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with self._pool.acquire() as conn:
                    if await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                        try:
                            await self._lead(conn)
                        finally:
                            await conn.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
            await asyncio.sleep(1.0)  # stand by: another conductor leads

    async def _lead(self, conn: Any) -> None:
        while True:
            events = await outbox.pending_publish(conn) or await outbox.assign_sequences(conn)
            if not events:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle)
                continue
            await asyncio.gather(*(self._publish(e) for e in events))
            await outbox.mark_published(conn, [e.published_seq for e in events if e.published_seq])
            self.published += len(events)

    async def _publish(self, event: outbox.OutboxEvent) -> None:
        stored = event.payload
        body = {**stored["body"], "sequence": event.published_seq}
        envelope = Envelope(
            message_id=f"notification-{event.published_seq}",
            kind=Kind.EVENT,
            context=RequestContext(request_id=event.request_id or f"seq-{event.published_seq}"),
            schema=stored["schema"],
            version=stored["version"],
            payload=body,
        )
        # one notification per message: subscribers outside skymesh read this stream
        await self._bus.publish("notifications", event.event_type, envelope, coalesce=False)
