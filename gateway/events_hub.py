"""One subscription to `skymesh.notifications` per gateway process, fanned out to every
connected event-stream subscriber.

Each notification is encoded once and offered to each subscriber whose filter admits
it. A subscriber's queue is bounded: when it is full the subscriber is marked
overflowed, its queue is dropped and it gets no more, so a slow client costs at most
`limit` notifications of memory; its stream then tells the client where to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

from corebus.bus import Bus, Subscription
from corebus.envelope import Envelope
from gateway.events_order import Sequencer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Note:
    """A notification ready to send: its sequence, type, project and JSON text."""

    sequence: int
    event_type: str
    project_id: str | None  # the payload's tenant_id
    text: str

    @classmethod
    def of(cls, notification: dict[str, Any]) -> Note:
        """From a notification body (its `sequence` set); ValueError when it has none."""
        sequence = notification.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise ValueError(f"a notification without a sequence: {sequence!r}")
        payload = notification.get("payload")
        tenant = payload.get("tenant_id") if isinstance(payload, dict) else None
        return cls(
            sequence=sequence,
            event_type=str(notification.get("event_type", "")),
            project_id=str(tenant) if tenant is not None else None,
            text=orjson.dumps(notification).decode(),
        )


@dataclass(frozen=True)
class Filter:
    """What one subscriber wants: a project (None: every project) and fnmatch-style
    event type patterns (none: every type)."""

    project_id: str | None
    patterns: tuple[str, ...] = ()

    def admits(self, note: Note) -> bool:
        if self.project_id is not None and note.project_id != self.project_id:
            return False
        return not self.patterns or any(
            fnmatch.fnmatchcase(note.event_type, p) for p in self.patterns
        )


class End(Enum):
    OVERFLOW = "overflow"  # the subscriber fell `limit` notifications behind
    SHUTDOWN = "shutdown"  # the gateway is stopping


class StreamEnded(Exception):
    def __init__(self, why: End) -> None:
        super().__init__(why.value)
        self.why = why


class Subscriber:
    """One connected stream's bounded queue of live notifications."""

    def __init__(self, wanted: Filter, limit: int) -> None:
        self.wanted = wanted
        self._limit = limit
        self._queue: deque[Note] = deque()
        self._ready = asyncio.Event()
        self._ended: End | None = None

    def offer(self, note: Note) -> None:
        """Queue `note` if wanted; never blocks, never grows past the limit."""
        if self._ended is not None or not self.wanted.admits(note):
            return
        if len(self._queue) >= self._limit:
            self.end(End.OVERFLOW)
            return
        self._queue.append(note)
        self._ready.set()

    def end(self, why: End) -> None:
        if self._ended is None:
            self._ended = why
            self._queue.clear()
            self._ready.set()

    async def next(self, timeout: float) -> Note | None:
        """The next notification, None when none came within `timeout`; StreamEnded
        once the subscriber overflowed or the hub stopped."""
        if not self._queue and self._ended is None:
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout)
        if self._ended is not None:
            raise StreamEnded(self._ended)
        return self._queue.popleft() if self._queue else None


class EventHub:
    def __init__(self, bus: Bus, queue_limit: int, *, gap_wait_s: float = 1.0) -> None:
        self._bus = bus
        self._limit = queue_limit
        self._subscribers: set[Subscriber] = set()
        self._sequencer: Sequencer[Note] = Sequencer(self._fan_out, gap_wait_s=gap_wait_s)
        self._subscription: Subscription | None = None
        self._closed = False

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe("notifications", ["#"], self._on_event)

    def close(self) -> None:
        """End every stream (at shutdown, so no request waits on one) and take no more."""
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.end(End.SHUTDOWN)

    async def stop(self) -> None:
        self.close()
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None
        self._sequencer.close()

    @contextlib.contextmanager
    def joined(self, wanted: Filter) -> Iterator[Subscriber]:
        """A subscriber getting every live notification from now on, until the block ends."""
        subscriber = Subscriber(wanted, self._limit)
        if self._closed:
            subscriber.end(End.SHUTDOWN)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def _on_event(self, topic: str, envelope: Envelope) -> None:
        try:
            note = Note.of(envelope.payload)
        except ValueError as exc:
            log.warning("ignoring a notification on %s: %s", topic, exc)
            return
        self._sequencer.push(note)

    def _fan_out(self, note: Note) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(note)
