"""The scheduler's host states, fetched from the conductor (`conductor.host_view`), and
their index (`HostIndex`), which every decision reads.

The view is fetched again when it is older than `max_age_s` or after a conflict; in
between, the scheduler keeps it current with what it placed itself (the claims the
conductor applied and the host generations it returned), updating only the rows of the
hosts it placed on. Changes made by others (deletes, other schedulers) show as
generation conflicts at apply time, which invalidate the view, so planning on a cached
view is optimistic, never unsafe.

Fetches are incremental once the conductor gives a cursor: the next fetch asks for the
hosts changed since it (`changed_since`) and merges them, dropping `removed` hosts. A
reply with cursor 0 is a whole view (what a conductor that keeps no change log sends),
and `refresh(full=True)` asks for one (a cold start, or a decision that found no host).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from uuid import UUID

from corebus.envelope import RequestContext
from scheduler.conductor_api import ConductorApi
from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from schemas.claims import Claim
from schemas.messages.conductor_hosts import HostView, HostViewReply


class HostStateCache:
    def __init__(self, conductor: ConductorApi, max_age_s: float = 0.0) -> None:
        self._conductor = conductor
        self._max_age = max_age_s
        self._hosts: dict[UUID, HostState] = {}
        self._index = HostIndex(())
        self._cursor = 0
        self._fetched_at = -math.inf
        self.cached = False  # whether the last view() was served from the cache

    async def refresh(self, ctx: RequestContext, *, full: bool = False) -> HostIndex:
        """Every up compute host, disabled ones too (so a filter can say why it was
        dropped): the changes since the last cursor, or the whole view."""
        since = None if full or not self._cursor else self._cursor
        reply = await self._conductor.host_view(
            ctx, HostView(include_disabled=True, changed_since=since)
        )
        self._merge(reply, delta=since is not None and reply.cursor != 0)
        self._fetched_at = time.monotonic()
        return self._index

    def _merge(self, reply: HostViewReply, *, delta: bool) -> None:
        fetched = {snap.host.id: HostState.of(snap) for snap in reply.hosts}
        if delta:
            hosts = dict(self._hosts)
            for host_id in reply.removed:
                hosts.pop(host_id, None)
            hosts.update(fetched)
        else:
            hosts = fetched
        self._hosts = hosts
        self._cursor = reply.cursor
        self._index = HostIndex(hosts.values())

    async def view(self, ctx: RequestContext) -> HostIndex:
        """The cached view, fetched again when it is too old or was invalidated."""
        self.cached = time.monotonic() - self._fetched_at <= self._max_age
        if not self.cached:
            await self.refresh(ctx)
        return self._index

    def invalidate(self) -> None:
        self._fetched_at = -math.inf

    def record(self, placed: Iterable[tuple[UUID, Claim]], generations: Mapping[UUID, int]) -> None:
        """Take what this scheduler just placed into the cached view."""
        changed: set[UUID] = set()
        for host_id, claim in placed:
            state = self._hosts.get(host_id)
            if state is not None:
                self._hosts[host_id] = state.with_claim(claim)
                changed.add(host_id)
        for host_id, generation in generations.items():
            state = self._hosts.get(host_id)
            if state is not None:
                self._hosts[host_id] = replace(
                    state, host=state.host.model_copy(update={"generation": generation})
                )
                changed.add(host_id)
        for host_id in changed:
            state = self._hosts[host_id]
            self._index.replace(self._index.by_name[state.name], state)
