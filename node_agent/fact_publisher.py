"""Stamping and publishing facts: `<role>.<host>.<fact>` on the `events` stream.

Each fact gets its sequence number when it is made (the moment of observation), so
facts published out of order still say which is newer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from corebus.client import Client
from node_agent.seq import SeqClock
from schemas.messages.facts import Fact

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Fact)
EVENTS = "events"


class FactPublisher:
    def __init__(self, client: Client, host: str, clock: SeqClock, host_role: str) -> None:
        self.client, self.host, self.clock = client, host, clock
        self.host_role = host_role  # routes host-level facts (snapshot, heartbeat)
        self._pending: set[asyncio.Task[None]] = set()

    def make(
        self, model: type[F], resource_id: UUID, *, seq: int | None = None, **fields: Any
    ) -> F:
        return model(
            host=self.host,
            resource_id=resource_id,
            seq=self.clock.next() if seq is None else seq,
            observed_at=datetime.now(UTC),
            **fields,
        )

    async def publish(self, fact: Fact) -> None:
        topic = fact.routing_key(None if fact.role else self.host_role)
        await self.client.publish(EVENTS, topic, fact)
        log.debug("published %s seq %s", topic, fact.seq)

    def publish_soon(self, fact: Fact) -> None:
        """Publish from sync code (driver event callbacks); errors are logged."""
        task = asyncio.create_task(self._publish_logged(fact))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish_logged(self, fact: Fact) -> None:
        try:
            await self.publish(fact)
        except Exception:
            log.exception("publishing %s about %s failed", fact.message_name, fact.resource_id)

    async def drain(self) -> None:
        """Wait for the facts handed to publish_soon so far."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
