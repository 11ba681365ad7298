"""The `dvr` network driver builds each host's own part from the same commands: the
network node its bridges and snat namespace, a compute host the qrouter of the routers
its ports are on, with only its own floating IPs."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from node_agent.drivers.dvr.base import NamespaceKind, RouterPlan, namespace_name
from node_agent.drivers.dvr.fake import FakeDvr
from node_agent.drivers.network.dvr import DvrNetwork
from schemas.messages.agent_network import EnsureFloatingIp, EnsureNetwork, EnsurePort, EnsureRouter
from schemas.network import PortStatus
from tests.unit.node_agent.dvr.test_plans import EXT, NET, ROUTER, model


async def _feed(driver: DvrNetwork) -> None:
    """What the conductor sends (and mirrors to compute hosts with the dvr backend)."""
    m = model()
    subnets = tuple(m.subnets.values())
    await driver.ensure_network(EnsureNetwork(network=m.networks[NET], subnets=subnets))
    await driver.ensure_router(EnsureRouter(router=m.routers[ROUTER], subnets=subnets))
    for port_id, host in m.hosts.items():
        info = await driver.ensure_port(EnsurePort(port=m.ports[port_id], requested_chassis=host))
        assert info.chassis == host
    await driver.ensure_floating_ip(EnsureFloatingIp(floating_ip=m.floating_ips[UUID(int=50)]))


def _qrouter(dvr: FakeDvr) -> RouterPlan:
    return RouterPlan.model_validate(dvr._table("qrouters")[str(ROUTER)])


async def test_network_node_builds_snat_only(tmp_path: Path) -> None:
    dvr = FakeDvr(tmp_path)
    driver = DvrNetwork(tmp_path)
    driver.attach(dvr)
    await _feed(driver)
    assert await dvr.list_namespaces() == [namespace_name(NamespaceKind.SNAT, ROUTER)]
    assert str(NET) in dvr._table("networks")
    assert await driver.delete_router(ROUTER) is True
    assert await dvr.list_namespaces() == []


async def test_compute_hosts_build_their_own_part(tmp_path: Path) -> None:
    one, two = FakeDvr(tmp_path / "1"), FakeDvr(tmp_path / "2")
    first, second = DvrNetwork(tmp_path / "1", "compute-1"), DvrNetwork(tmp_path / "2", "compute-2")
    first.attach(one)
    second.attach(two)
    for driver in (first, second):
        await _feed(driver)
    assert namespace_name(NamespaceKind.FIP, EXT) in await one.list_namespaces()
    assert [str(f.floating_ip) for f in _qrouter(one).floating_ips] == ["203.0.113.50"]
    assert _qrouter(two).floating_ips == ()
    assert await two.list_namespaces() == [namespace_name(NamespaceKind.QROUTER, ROUTER)]
    assert str(NET) in two._table("networks")  # the bridge of its guests' network

    # compute-2's only port goes: so does its qrouter; the state survives a restart
    assert await second.delete_port(UUID(int=102)) is True
    assert await two.list_namespaces() == []
    again = DvrNetwork(tmp_path / "2", "compute-2")
    assert again.model.routers[ROUTER] == model().routers[ROUTER]
    assert set(again.model.hosts.values()) == {"compute-1"}


async def test_without_attach_it_only_records(tmp_path: Path) -> None:
    driver = DvrNetwork(tmp_path)
    await driver.ensure_router(EnsureRouter(router=model().routers[ROUTER]))
    assert DvrNetwork(tmp_path).model.routers[ROUTER].id == ROUTER


async def test_the_network_node_reports_its_routers_ports_active_then_down(tmp_path: Path) -> None:
    driver = DvrNetwork(tmp_path)
    driver.attach(FakeDvr(tmp_path))
    seen: list[tuple[UUID, PortStatus]] = []
    stop = await driver.watch_ports(lambda info: seen.append((info.port_id, info.status)), "router")
    await _feed(driver)
    router = model().routers[ROUTER]
    assert router.external_gateway is not None and router.external_gateway.port_id is None
    ports = {i.port_id for i in router.interfaces}  # a gateway without a port has none
    assert ports
    assert {p for p, status in seen if status is PortStatus.ACTIVE} == ports
    listed = await driver.list_ports(owner="router")
    assert {p.port_id for p in listed} == ports
    assert {p.status for p in listed} == {PortStatus.ACTIVE}
    assert ports.isdisjoint(p.port_id for p in await driver.list_ports())  # VM ports only
    gateway_port = UUID(int=77)
    gateway = router.external_gateway.model_copy(update={"port_id": gateway_port})
    with_port = router.model_copy(update={"external_gateway": gateway})
    subnets = tuple(model().subnets.values())
    await driver.ensure_router(EnsureRouter(router=with_port, subnets=subnets))
    assert (gateway_port, PortStatus.ACTIVE) in seen
    ports.add(gateway_port)
    seen.clear()
    await driver.delete_router(ROUTER)
    assert set(seen) == {(p, PortStatus.DOWN) for p in ports}
    assert await driver.list_ports(owner="router") == []
    stop()
    await _feed(driver)
    assert len(seen) == len(ports)  # no longer watched
