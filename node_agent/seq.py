"""Fact sequence numbers that only grow, across agent restarts too.

One clock per agent: `next()` is max(last + 1, microseconds since the epoch), so every
fact gets a larger number than any fact before it, whatever its resource, and a
restarted agent (whose clock moved on) continues above its predecessor. The high-water
mark is also kept in the state directory, so a clock stepped back does not break it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from node_agent.state_file import JsonStateFile


class SeqClock:
    def __init__(
        self, state: JsonStateFile | None = None, now_us: Callable[[], int] | None = None
    ) -> None:
        self._state = state
        self._now_us = now_us or (lambda: time.time_ns() // 1000)
        self._last = int(state.load().get("last_seq", 0)) if state else 0

    @classmethod
    def in_dir(cls, state_dir: Path) -> SeqClock:
        return cls(JsonStateFile(state_dir / "seq.json"))

    @property
    def last(self) -> int:
        return self._last

    def next(self) -> int:
        self._last = max(self._last + 1, self._now_us())
        return self._last

    def save(self) -> None:
        """Record the high-water mark (on stop and now and then; a crash loses only
        what the wall clock covers anyway)."""
        if self._state is not None:
            self._state.save({"last_seq": self._last})
