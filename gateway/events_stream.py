"""One subscriber's notifications: replay from the conductor, then live from the hub,
with no gap and no repeat at the seam.

The order is what makes it gap-free: the subscriber joins the hub FIRST (its queue
buffers everything published from then on), THEN replays from the outbox (which holds
everything numbered before the replay's snapshot, and more), and finally drains the
buffer, skipping every sequence the replay covered. A notification published before
the join was numbered before the replay's snapshot, so replay has it; one published
after is in the buffer. Repeats (the same sequence republished after a relay crash,
or both in replay and buffer) are dropped by sequence.

The transport (SSE or WebSocket) only calls `open()` then `next()`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from aiohttp import web

from gateway.events_hub import Note, Subscriber
from gateway.http import call
from schemas.messages.conductor_events import ReplayNotifications, ReplayNotificationsReply


@dataclass(frozen=True)
class Resume:
    """Where a stream starts: after `after` (None: live only), with the replay scoped
    to every project or the caller's, and to the type patterns."""

    after: int | None
    every_project: bool
    patterns: tuple[str, ...]


class EventStream:
    def __init__(
        self, request: web.Request, live: Subscriber, resume: Resume, page: int = 500
    ) -> None:
        self._request = request
        self._live = live
        self._resume = resume
        self._page_size = page
        self._page: deque[Note] = deque()
        self._replayed_through = resume.after  # every sequence up to here was replayed
        self._caught_up = resume.after is None  # the replay reached the head
        self.sent: int | None = resume.after  # the last sequence handed out

    async def open(self) -> None:
        """Fetch the first replay page: a resume point past the retention raises Gone
        here, before the transport has started its answer."""
        if not self._caught_up:
            await self._fetch()

    async def next(self, timeout: float) -> Note | None:
        """The next notification in sequence order; None when none came within
        `timeout` (time for a keepalive); StreamEnded when the live feed ended."""
        while self._page or not self._caught_up:
            if self._page:
                return self._hand_out(self._page.popleft())
            await self._fetch()
        while True:
            note = await self._live.next(timeout)
            if note is None:
                return None
            if not self._covered(note.sequence):
                return self._hand_out(note)

    def _covered(self, sequence: int) -> bool:
        """Was `sequence` replayed (sent if it matched) or handed out already?"""
        marks = (self._replayed_through, self.sent)
        return any(mark is not None and sequence <= mark for mark in marks)

    def _hand_out(self, note: Note) -> Note:
        self.sent = note.sequence
        return note

    async def _fetch(self) -> None:
        assert self._replayed_through is not None
        reply = await call(
            self._request,
            "replay_notifications",
            ReplayNotifications(
                after=self._replayed_through,
                limit=self._page_size,
                types=self._resume.patterns,
            ),
            ReplayNotificationsReply,
            every_project=self._resume.every_project,
        )
        self._page.extend(
            Note.of(stored.notification)
            for stored in reply.notifications
            if stored.sequence > self._replayed_through
        )
        self._replayed_through = max(self._replayed_through, reply.through)
        self._caught_up = reply.complete
