"""Registering with the conductor and heartbeating, for the life of the agent.

Register (retrying with back-off while no conductor answers), run `on_registered`
(publish inventory and snapshot), then heartbeat every `heartbeat_interval_s` of the
reply with an increasing sequence; when the conductor answers NotFound ("register
again": it lost the host, or another incarnation registered), start over.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from corebus.client import Client
from corebus.envelope import Kind, envelope_for
from schemas.errors import NotFound, SkymeshError
from schemas.messages.conductor_hosts import Heartbeat, RegisterHost, RegisterHostReply

log = logging.getLogger(__name__)


class Registration:
    def __init__(
        self,
        client: Client,
        request: Callable[[], Awaitable[RegisterHost]],
        on_registered: Callable[[RegisterHostReply], Awaitable[None]],
        *,
        running_tasks: Callable[[], int] = lambda: 0,
        call_timeout_s: float = 10.0,
        retry_max_s: float = 30.0,
    ) -> None:
        self._client = client
        self._request = request
        self._on_registered = on_registered
        self._running_tasks = running_tasks
        self._timeout = call_timeout_s
        self._retry_max = retry_max_s
        self.registered = asyncio.Event()
        self.reply: RegisterHostReply | None = None
        self.sequence = 0
        self.registrations = 0

    async def run(self) -> None:
        while True:
            request = await self._request()
            reply = await self._register(request)
            self.reply, self.registrations = reply, self.registrations + 1
            log.info("registered as host %s (incarnation %s)", reply.host_id, request.incarnation)
            await self._on_registered(reply)
            self.registered.set()
            await self._heartbeat(request, reply)
            self.registered.clear()

    async def _register(self, request: RegisterHost) -> RegisterHostReply:
        delay = 0.5
        while True:
            try:
                return await self._client.call(
                    "conductor.register_host", request, RegisterHostReply, timeout=self._timeout
                )
            except SkymeshError as exc:
                log.warning("registering failed (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(self._retry_max, delay * 2) * random.uniform(0.8, 1.0)

    async def _heartbeat(self, request: RegisterHost, reply: RegisterHostReply) -> None:
        """Heartbeat until the conductor wants a new registration."""
        while True:
            await asyncio.sleep(reply.heartbeat_interval_s)
            self.sequence += 1
            beat = Heartbeat(
                host_id=reply.host_id,
                name=request.name,
                incarnation=request.incarnation,
                sequence=self.sequence,
                sent_at=datetime.now(UTC),
                running_tasks=self._running_tasks(),
            )
            try:
                await self._client.bus.call(
                    "conductor.heartbeat", envelope_for(beat, Kind.CALL), self._timeout
                )
            except NotFound:
                log.warning("the conductor asks host %s to register again", request.name)
                return
            except SkymeshError as exc:
                log.warning("heartbeat %d failed: %s", self.sequence, exc)
