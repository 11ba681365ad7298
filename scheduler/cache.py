"""The scheduler's host states, fetched from the conductor (`conductor.host_view`).

The whole view is fetched when it is older than `max_age_s` or after a conflict; in
between, the scheduler keeps it current with what it placed itself (the claims the
conductor applied and the host generations it returned). Changes made by others
(deletes, other schedulers) show as generation conflicts at apply time, which
invalidate the view, so planning on a cached view is optimistic, never unsafe. An
incremental refresh (`HostView.changed_since`) is the next step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from uuid import UUID

from corebus.envelope import RequestContext
from scheduler.conductor_api import ConductorApi
from scheduler.host_state import HostState
from schemas.claims import Claim
from schemas.messages.conductor_hosts import HostView


class HostStateCache:
    def __init__(self, conductor: ConductorApi, max_age_s: float = 0.0) -> None:
        self._conductor = conductor
        self._max_age = max_age_s
        self._hosts: dict[UUID, HostState] = {}
        self._fetched_at = -math.inf
        self.cached = False  # whether the last view() was served from the cache

    @property
    def hosts(self) -> Mapping[UUID, HostState]:
        return self._hosts

    async def refresh(self, ctx: RequestContext) -> Mapping[UUID, HostState]:
        """Every up compute host, disabled ones too (so a filter can say why it was
        dropped)."""
        reply = await self._conductor.host_view(ctx, HostView(include_disabled=True))
        self._hosts = {snap.host.id: HostState.of(snap) for snap in reply.hosts}
        self._fetched_at = time.monotonic()
        return self._hosts

    async def view(self, ctx: RequestContext) -> Mapping[UUID, HostState]:
        """The cached view, fetched again when it is too old or was invalidated."""
        self.cached = time.monotonic() - self._fetched_at <= self._max_age
        if not self.cached:
            await self.refresh(ctx)
        return self._hosts

    def invalidate(self) -> None:
        self._fetched_at = -math.inf

    def record(self, placed: Iterable[tuple[UUID, Claim]], generations: Mapping[UUID, int]) -> None:
        """Take what this scheduler just placed into the cached view."""
        for host_id, claim in placed:
            state = self._hosts.get(host_id)
            if state is not None:
                self._hosts[host_id] = state.with_claim(claim)
        for host_id, generation in generations.items():
            state = self._hosts.get(host_id)
            if state is not None:
                self._hosts[host_id] = replace(
                    state, host=state.host.model_copy(update={"generation": generation})
                )
