"""The conductor's side of the gateway's resumable event streams: replaying published
notifications by outbox sequence, and expiring them after the retention.

A subscriber that reconnects names the last sequence it saw; what came after is read
back from the outbox, scoped to the caller's project like every other read. The
retention (an age and a row count, whichever keeps less) bounds the outbox; a resume
point that fell out of it is refused with Gone so the subscriber knows to resync
instead of silently missing events.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from conductor.db.queries import event_replay
from corebus.envelope import RequestContext
from corebus.periodic import Periodic
from corebus.service import rpc
from schemas.errors import Forbidden, Gone
from schemas.messages.conductor_events import (
    ReplayNotifications,
    ReplayNotificationsReply,
    StoredNotification,
)

log = logging.getLogger(__name__)


def like_pattern(pattern: str) -> str:
    """An fnmatch-style event pattern (`*`, `?` over [a-z0-9_.]) as a SQL LIKE pattern."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def scope(ctx: RequestContext) -> UUID | None:
    """The project whose notifications the caller may replay (None: every project,
    for an admin who asked for all of them)."""
    if ctx.is_admin and ctx.all_tenants:
        return None
    if ctx.project_id is None:
        raise Forbidden("replaying notifications needs a project-scoped token")
    return ctx.project_id


class EventReplay:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        retention_s: float,
        retention_count: int,
        purge_interval_s: float,
    ) -> None:
        self._pool = pool
        self._retention = timedelta(seconds=retention_s)
        self._keep = retention_count
        self._periodic = Periodic("notification-purge", purge_interval_s, self.purge)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    @rpc
    async def replay_notifications(
        self, ctx: RequestContext, req: ReplayNotifications
    ) -> ReplayNotificationsReply:
        project = scope(ctx)
        async with self._pool.acquire() as conn:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                kept = await event_replay.horizon(conn)
                _check_resumable(req.after, kept)
                rows = await event_replay.numbered_after(
                    conn,
                    req.after,
                    kept.last,
                    req.limit,
                    project_id=project,
                    like_patterns=[like_pattern(p) for p in req.types],
                )
        notes = tuple(
            StoredNotification(
                sequence=row["published_seq"],
                event_type=row["event_type"],
                notification={**row["payload"]["body"], "sequence": row["published_seq"]},
            )
            for row in rows
        )
        complete = len(notes) < req.limit
        through = kept.last if complete else notes[-1].sequence
        return ReplayNotificationsReply(notifications=notes, through=through, complete=complete)

    async def purge(self) -> int:
        """Delete the notifications past the retention; how many went."""
        cutoff = datetime.now(UTC) - self._retention
        total = 0
        async with self._pool.acquire() as conn:
            while deleted := await event_replay.purge(conn, cutoff, self._keep):
                total += deleted
        if total:
            log.info("purged %d notifications past the retention", total)
        return total


def _check_resumable(after: int, kept: event_replay.Horizon) -> None:
    if after < kept.purged_through:
        raise Gone(
            f"resume point {after} is older than the notification retention (the oldest "
            f"kept is {kept.purged_through + 1}): resync the state, then subscribe "
            "again without a resume point",
            oldest=kept.purged_through + 1,
            last=kept.last,
        )
    if after > kept.last:
        raise Gone(
            f"resume point {after} is beyond the last notification ({kept.last}): the "
            "event history was reset; resync the state, then subscribe again without "
            "a resume point",
            oldest=kept.purged_through + 1,
            last=kept.last,
        )
