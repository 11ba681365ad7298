"""Fault and latency injection for fake drivers (Nova's fake driver, made explicit).

    driver.faults.fail_next("spawn", TransientError("no space left"))
    driver.faults.add_latency("spawn", 0.5)      # every spawn takes 0.5 s more
    driver.faults.add_latency("*", 0.01)         # every operation

Each operation of a fake calls `await self.faults.checkpoint("<op>")` first.
"""

from __future__ import annotations

import asyncio
from collections import deque

ANY = "*"


class FaultInjector:
    def __init__(self) -> None:
        self._faults: dict[str, deque[BaseException]] = {}
        self._latency: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def fail_next(self, operation: str, error: BaseException, times: int = 1) -> None:
        """The next `times` calls of `operation` raise `error` (queued after earlier ones)."""
        self._faults.setdefault(operation, deque()).extend([error] * times)

    def add_latency(self, operation: str, seconds: float) -> None:
        """Every call of `operation` ("*": of any operation) sleeps `seconds` first."""
        self._latency[operation] = seconds

    def clear(self) -> None:
        self._faults.clear()
        self._latency.clear()

    def pending(self, operation: str) -> int:
        return len(self._faults.get(operation, ()))

    async def checkpoint(self, operation: str) -> None:
        """Count the call, wait the injected latency, raise the next injected fault."""
        self.calls[operation] = self.calls.get(operation, 0) + 1
        delay = self._latency.get(operation, 0.0) + self._latency.get(ANY, 0.0)
        if delay:
            await asyncio.sleep(delay)
        queued = self._faults.get(operation)
        if queued:
            raise queued.popleft()
