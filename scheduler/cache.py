"""The scheduler's host states, fetched from the conductor (`conductor.host_view`).

v1 refreshes the whole view before each plan (the conductor reads it in a few set-based
queries). An incremental refresh (`HostView.changed_since`) is the next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from corebus.envelope import RequestContext
from scheduler.conductor_api import ConductorApi
from scheduler.host_state import HostState
from schemas.messages.conductor_hosts import HostView


class HostStateCache:
    def __init__(self, conductor: ConductorApi) -> None:
        self._conductor = conductor
        self._hosts: dict[UUID, HostState] = {}

    @property
    def hosts(self) -> Mapping[UUID, HostState]:
        return self._hosts

    async def refresh(self, ctx: RequestContext) -> Mapping[UUID, HostState]:
        """Every up compute host, disabled ones too (so a filter can say why it was
        dropped)."""
        reply = await self._conductor.host_view(ctx, HostView(include_disabled=True))
        self._hosts = {snap.host.id: HostState.of(snap) for snap in reply.hosts}
        return self._hosts
