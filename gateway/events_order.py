"""Putting the live notification feed in sequence order, once each.

The relay publishes gap-free sequence numbers in order, but after a relay crash the
same numbers come again, and a broker may hand over messages slightly out of order.
The `Sequencer` releases notifications strictly by sequence and drops repeats; a
number that does not arrive within `gap_wait_s` is given up (logged) so one lost
message cannot stall every subscriber. A subscriber that missed it can replay it by
reconnecting with its last id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class Numbered(Protocol):
    @property
    def sequence(self) -> int: ...


N = TypeVar("N", bound=Numbered)


class Sequencer(Generic[N]):
    def __init__(
        self, deliver: Callable[[N], None], *, gap_wait_s: float = 1.0, hold_limit: int = 10_000
    ) -> None:
        self._deliver = deliver
        self._gap_wait = gap_wait_s
        self._hold_limit = hold_limit
        self._head: int | None = None  # the last sequence delivered
        self._held: dict[int, N] = {}  # arrived early, waiting for the ones before
        self._timer: asyncio.TimerHandle | None = None

    @property
    def head(self) -> int | None:
        return self._head

    def push(self, item: N) -> None:
        """Take one notification: deliver it (and what it unblocks) when it is next,
        hold it when it is early, drop it when it was seen."""
        seq = item.sequence
        if self._head is None:
            self._head = seq - 1  # the feed starts wherever this gateway joined it
        if seq <= self._head or seq in self._held:
            return
        self._held[seq] = item
        self._release()
        if len(self._held) > self._hold_limit:
            self._skip_gap()
        elif self._held and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._gap_wait, self._skip_gap)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held.clear()

    def _release(self) -> None:
        assert self._head is not None
        while (following := self._head + 1) in self._held:
            self._head = following
            self._deliver(self._held.pop(following))
        if not self._held and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _skip_gap(self) -> None:
        self._timer = None
        if not self._held or self._head is None:
            return
        first = min(self._held)
        log.warning(
            "notifications %d..%d never arrived; going on (replay has them)",
            self._head + 1,
            first - 1,
        )
        self._head = first - 1
        self._release()
        if self._held:
            self._timer = asyncio.get_running_loop().call_later(self._gap_wait, self._skip_gap)
