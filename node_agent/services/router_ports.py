"""Router ports' status from the network backend.

A router's interface and gateway ports have no VIF and no chassis binding, so no compute
host ever reports them. In OVN they are `router` logical switch ports, and northd marks
such a port `up` once its peer router port exists; Neutron's OVN driver turns that into
the port's ACTIVE status, and so does this: the network role watches its driver's router
ports and publishes `port.active` / `port.down` when their state changes. The dvr and fake
drivers report their routers' ports ACTIVE while they hold the router, as Neutron's L3
agent does (node_agent/drivers/network/base.py RouterPortWatch).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable
from uuid import UUID

from node_agent.drivers.network.base import PortInfo
from node_agent.fact_publisher import FactPublisher
from schemas.messages.facts import PortActive, PortDown
from schemas.network import PortStatus

log = logging.getLogger(__name__)
ROUTER = "router"  # the driver's owner of router-owned ports


@runtime_checkable
class PortWatch(Protocol):
    async def list_ports(self, owner: str = "port") -> list[PortInfo]: ...

    async def watch_ports(
        self, callback: Callable[[PortInfo], None], owner: str = "port"
    ) -> Callable[[], None]: ...


class RouterPortReports:
    """Publishes each router port's state once per change (and all of them on `report_all`,
    which the agent calls on every registration so a new conductor learns them)."""

    def __init__(self, driver: PortWatch, facts: FactPublisher) -> None:
        self._driver, self._facts = driver, facts
        self._last: dict[UUID, PortStatus] = {}
        self._stop: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    def report_soon(self) -> None:
        """`report_all` in the background (the agent's registration must not wait on the
        backend: an unreachable NB is only logged, and the next registration tries again)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._report_logged(), name="router-ports")

    async def _report_logged(self) -> None:
        try:
            await self.report_all()
        except Exception as exc:
            log.warning("router ports not reported (tried again at the next registration): %s", exc)

    async def report_all(self) -> None:
        if self._stop is None:
            self._stop = await self._driver.watch_ports(self._seen, owner=ROUTER)
        self._last.clear()
        for info in await self._driver.list_ports(owner=ROUTER):
            self._seen(info)

    def _seen(self, info: PortInfo) -> None:
        if self._last.get(info.port_id) is info.status:
            return
        self._last[info.port_id] = info.status
        kind = PortActive if info.status is PortStatus.ACTIVE else PortDown
        self._facts.publish_soon(self._facts.make(kind, info.port_id))

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._stop is not None:
            self._stop()
            self._stop = None
