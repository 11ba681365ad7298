"""Router ports read ACTIVE, as in Neutron with OVN: northd marks a `router` logical switch
port up once its peer router port exists, and the network role's RouterPortReports
(node_agent/services/router_ports.py) turns that into `port.active`, once per change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from node_agent.drivers.network.ovn import OvnNetwork
from node_agent.services.router_ports import RouterPortReports
from tests.integration.network import netbuild as build
from tests.integration.ovn_stack import OvnStack

pytestmark = pytest.mark.integration


@pytest.fixture
async def driver(ovn_stack: OvnStack) -> AsyncIterator[OvnNetwork]:
    chassis = (ovn_stack.chassis[0].name,)
    driver = OvnNetwork.connect(ovn_stack.nb_db, gateway_chassis=chassis)
    try:
        yield driver
    finally:
        driver.close()


class Facts:
    """Stands in for the agent's FactPublisher: keeps (kind, port id) of what is published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, UUID]] = []
        self.changed = asyncio.Event()

    def make(self, model: type, resource_id: UUID) -> tuple[str, UUID]:
        return model.__name__, resource_id

    def publish_soon(self, fact: tuple[str, UUID]) -> None:
        self.published.append(fact)
        self.changed.set()

    async def until(self, wanted: set[tuple[str, UUID]], timeout: float = 15) -> None:
        async with asyncio.timeout(timeout):
            while not wanted <= set(self.published):
                self.changed.clear()
                await self.changed.wait()


async def test_router_ports_go_active_once_ovn_has_them_up(
    driver: OvnNetwork,
) -> None:
    facts = Facts()
    reports = RouterPortReports(driver, facts)  # type: ignore[arg-type]
    ext_net = build.network("172.24.9.0/24", external=True, dhcp=False)
    net = build.network("10.59.0.0/24")
    router = build.router([net], ext_net, "172.24.9.10")
    interface = router.router.interfaces[0].port_id
    gateway = router.router.external_gateway.port_id  # type: ignore[union-attr]
    await reports.report_all()
    try:
        await driver.ensure_network(ext_net)
        await driver.ensure_network(net)
        await driver.ensure_router(router)
        await facts.until({("PortActive", interface), ("PortActive", gateway)})
        # one fact per change: northd's later writes to the rows repeat nothing
        await asyncio.sleep(1)
        assert facts.published.count(("PortActive", interface)) == 1
        # a registration (a conductor that lost track) hears every state again
        await reports.report_all()
        assert facts.published.count(("PortActive", interface)) == 2
        assert {p.port_id for p in await driver.list_ports(owner="router")} == {interface, gateway}
        assert await driver.list_ports() == []  # VM ports only by default
    finally:
        reports.close()
        await driver.delete_router(router.router.id)
        await driver.delete_network(net.network.id)
        await driver.delete_network(ext_net.network.id)
