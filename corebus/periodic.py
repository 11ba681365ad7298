"""A coroutine run every `interval_s` in the background, surviving its own failures
(logged), started and stopped with the service that owns it; `kick()` runs it soon instead
of at the end of the interval (kicks while it runs coalesce into one more run)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval_s: float, work: Callable[[], Awaitable[Any]]) -> None:
        self.name = name
        self._interval = interval_s
        self._work = work
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self._work()
            except Exception:
                log.exception("%s failed; trying again in %.3gs", self.name, self._interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
