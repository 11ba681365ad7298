"""RouterPortReports: a router port's state change becomes one port.active / port.down fact
on the real FactPublisher; a registration re-reports every router port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from node_agent.drivers.network.base import PortInfo
from node_agent.fact_publisher import FactPublisher
from node_agent.seq import SeqClock
from node_agent.services.router_ports import PortWatch, RouterPortReports
from schemas.messages.facts import PortActive, PortDown
from schemas.network import PortStatus


class Published:
    """A bus client that keeps what is published."""

    def __init__(self) -> None:
        self.facts: list[Any] = []

    async def publish(self, exchange: str, topic: str, message: Any) -> None:
        self.facts.append(message)


class Watched:
    """An in-memory driver with a port watch, like OvnNetwork's."""

    def __init__(self) -> None:
        self.ports: dict[str, dict[UUID, PortInfo]] = {"port": {}, "router": {}}
        self.watchers: dict[str, list[Callable[[PortInfo], None]]] = {"port": [], "router": []}

    def change(self, owner: str, port_id: UUID, status: PortStatus) -> None:
        info = PortInfo(port_id, uuid4(), status, None, "r1")
        self.ports[owner][port_id] = info
        for callback in self.watchers[owner]:
            callback(info)

    async def list_ports(self, owner: str = "port") -> list[PortInfo]:
        return list(self.ports[owner].values())

    async def watch_ports(
        self, callback: Callable[[PortInfo], None], owner: str = "port"
    ) -> Callable[[], None]:
        self.watchers[owner].append(callback)
        return lambda: self.watchers[owner].remove(callback)


async def test_each_change_of_a_router_port_is_one_fact_and_registration_repeats_all() -> None:
    driver, bus = Watched(), Published()
    facts = FactPublisher(bus, "network-1", SeqClock(now_us=lambda: 1), "network")  # type: ignore[arg-type]
    assert isinstance(driver, PortWatch)
    reports = RouterPortReports(driver, facts)
    interface, vm_port = uuid4(), uuid4()
    driver.change("router", interface, PortStatus.DOWN)
    await reports.report_all()
    driver.change("router", interface, PortStatus.ACTIVE)
    driver.change("router", interface, PortStatus.ACTIVE)  # northd rewrote something else
    driver.change("port", vm_port, PortStatus.ACTIVE)  # the compute host reports VM ports
    await facts.drain()
    assert [(type(f), f.resource_id) for f in bus.facts] == [
        (PortDown, interface),
        (PortActive, interface),
    ]
    await reports.report_all()  # registered again: the conductor hears the state again
    await facts.drain()
    assert [type(f) for f in bus.facts] == [PortDown, PortActive, PortActive]
    reports.close()
    driver.change("router", interface, PortStatus.DOWN)  # no longer watched
    await asyncio.sleep(0)
    await facts.drain()
    assert len(bus.facts) == 3 and driver.watchers["router"] == []


class Unreachable(Watched):
    async def list_ports(self, owner: str = "port") -> list[PortInfo]:
        raise ConnectionError("NB unreachable")


async def test_an_unreachable_backend_is_logged_and_tried_at_the_next_registration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver, bus = Unreachable(), Published()
    facts = FactPublisher(bus, "network-1", SeqClock(now_us=lambda: 1), "network")  # type: ignore[arg-type]
    reports = RouterPortReports(driver, facts)
    reports.report_soon()  # never raises into the registration
    await asyncio.sleep(0.05)
    assert "router ports not reported" in caplog.text and bus.facts == []
    reports.close()
