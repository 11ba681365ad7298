"""Coalescing of events: everything published to the same exchange and topic within
one loop tick (or `linger` seconds) travels as one wire message, a JSON array of
envelopes, confirmed by the broker once. Each publisher still awaits its own confirm."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

Send = Callable[[str, str, bytes], Awaitable[None]]


class Batcher:
    def __init__(self, send: Send, *, linger: float = 0.0, max_items: int = 256) -> None:
        self._send = send
        self._linger = linger
        self._max = max_items
        self._buffers: dict[tuple[str, str], list[tuple[dict[str, Any], asyncio.Future[None]]]] = {}
        self._sending: set[asyncio.Task[None]] = set()

    def add(self, exchange: str, topic: str, item: dict[str, Any]) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        key = (exchange, topic)
        buf = self._buffers.setdefault(key, [])
        buf.append((item, fut))
        if len(buf) >= self._max:
            self._flush(key)
        elif len(buf) == 1:
            if self._linger > 0:
                loop.call_later(self._linger, self._flush, key)
            else:
                loop.call_soon(self._flush, key)
        return fut

    def _flush(self, key: tuple[str, str]) -> None:
        items = self._buffers.pop(key, None)
        if not items:
            return
        task = asyncio.create_task(self._deliver(key, items))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(
        self, key: tuple[str, str], items: list[tuple[dict[str, Any], asyncio.Future[None]]]
    ) -> None:
        payloads = [item for item, _ in items]
        body = orjson.dumps(payloads if len(payloads) > 1 else payloads[0])
        try:
            await self._send(key[0], key[1], body)
        except BaseException as exc:
            for _, fut in items:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for _, fut in items:
                if not fut.done():
                    fut.set_result(None)

    async def drain(self) -> None:
        """Send everything buffered and wait for every confirm."""
        for key in list(self._buffers):
            self._flush(key)
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)
