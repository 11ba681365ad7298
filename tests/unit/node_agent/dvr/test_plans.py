"""From Neutron objects to each host's part of a router."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from uuid import UUID

from node_agent.drivers.dvr.plans import DvrModel, snat_address, vni_of
from schemas.network import FixedIp, Network, NetworkType, Port, Subnet
from schemas.router import ExternalGateway, FloatingIp, Router, RouterInterface

PROJECT, NET, EXT = UUID(int=1), UUID(int=2), UUID(int=3)
SUBNET, EXT_SUBNET, ROUTER = UUID(int=4), UUID(int=5), UUID(int=6)


def port(n: int, ip: str) -> Port:
    return Port(
        id=UUID(int=100 + n),
        network_id=NET,
        project_id=PROJECT,
        mac_address=f"fa:16:3e:00:00:{n:02x}",
        fixed_ips=(FixedIp(subnet_id=SUBNET, ip_address=ip),),
    )


def model() -> DvrModel:
    m = DvrModel()
    m.networks[NET] = Network(id=NET, project_id=PROJECT)
    m.subnets[SUBNET] = Subnet(
        id=SUBNET, network_id=NET, project_id=PROJECT, cidr="10.1.0.0/24", gateway_ip="10.1.0.1"
    )
    m.subnets[EXT_SUBNET] = Subnet(
        id=EXT_SUBNET,
        network_id=EXT,
        project_id=PROJECT,
        cidr="203.0.113.0/24",
        gateway_ip="203.0.113.1",
    )
    m.routers[ROUTER] = Router(
        id=ROUTER,
        project_id=PROJECT,
        interfaces=(RouterInterface(port_id=UUID(int=9), subnet_id=SUBNET, ip_address="10.1.0.1"),),
        external_gateway=ExternalGateway(
            network_id=EXT,
            external_fixed_ips=(FixedIp(subnet_id=EXT_SUBNET, ip_address="203.0.113.10"),),
        ),
    )
    for n, host in ((1, "compute-1"), (2, "compute-2")):
        m.ports[UUID(int=100 + n)] = port(n, f"10.1.0.{10 + n}")
        m.hosts[UUID(int=100 + n)] = host
    m.floating_ips[UUID(int=50)] = FloatingIp(
        id=UUID(int=50),
        project_id=PROJECT,
        floating_network_id=EXT,
        floating_ip_address="203.0.113.50",
        port_id=UUID(int=101),
        fixed_ip_address="10.1.0.11",
        router_id=ROUTER,
    )
    return m


def test_each_host_gets_only_its_own_floating_ips() -> None:
    m = model()
    router = m.routers[ROUTER]
    assert m.router_hosts(router) == {"compute-1", "compute-2"}
    one, two = m.host_plan(router, "compute-1"), m.host_plan(router, "compute-2")
    assert [(str(f.floating_ip), str(f.fixed_ip)) for f in one.floating_ips] == [
        ("203.0.113.50", "10.1.0.11")
    ]
    assert two.floating_ips == ()
    assert one.interfaces == two.interfaces
    assert one.interfaces[0].snat_ip == IPv4Address("10.1.0.254")
    assert one.gateway is not None and one.gateway.router_ip == IPv4Address("203.0.113.10")
    assert one.gateway.gateway_ip == IPv4Address("203.0.113.1")


def test_every_port_on_the_subnets_is_a_neighbour() -> None:
    m = model()
    plan = m.host_plan(m.routers[ROUTER], "compute-2")
    assert [(str(n.ip), n.mac) for n in plan.neighbours] == [
        ("10.1.0.11", "fa:16:3e:00:00:01"),
        ("10.1.0.12", "fa:16:3e:00:00:02"),
    ]


def test_snat_plan_has_no_floating_ips() -> None:
    m = model()
    assert m.snat_plan(m.routers[ROUTER]).floating_ips == ()


def test_vni_and_snat_address() -> None:
    vxlan = Network(id=NET, project_id=PROJECT, network_type=NetworkType.VXLAN, segmentation_id=77)
    assert vni_of(vxlan) == 77
    assert 1 <= vni_of(Network(id=NET, project_id=PROJECT)) < 2**24
    assert snat_address(IPv4Network("10.1.0.0/24")) == IPv4Address("10.1.0.254")
