"""Waiting for ports to come up, as Nova's libvirt driver waits for the
`network-vif-plugged` events of a spawn (`wait_for_instance_event`).

The agent feeds every PortState of its VifDriver to `update`; a spawn calls
`wait_up(port_ids, timeout_s)` after plugging, which returns the ports that did NOT come
up in time (empty: all are up). A state seen before the wait began counts: the port
may well be bound before the spawn asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from uuid import UUID

from node_agent.drivers.vif.base import PortState


class PortWaiter:
    def __init__(self) -> None:
        self._up: set[UUID] = set()
        self._changed = asyncio.Condition()

    def is_up(self, port_id: UUID) -> bool:
        return port_id in self._up

    def update(self, state: PortState) -> None:
        """Record a port's state and wake the waiters (on the event loop)."""
        if state.up:
            self._up.add(state.port_id)
        else:
            self._up.discard(state.port_id)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_up(self, port_ids: Iterable[UUID], timeout_s: float) -> set[UUID]:
        """The ports still not up after at most `timeout_s` seconds."""
        wanted = set(port_ids)

        async def all_up() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: wanted <= self._up)

        try:
            await asyncio.wait_for(all_up(), timeout_s)
        except TimeoutError:
            pass
        return wanted - self._up
