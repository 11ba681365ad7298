"""Subnets -> OVN native DHCP options."""

from __future__ import annotations

from uuid import UUID

from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.ovn_switches import dhcp_options
from schemas.network import HostRoute, Ipv6Mode, Network, Subnet

NET = Network(id=UUID(int=1), project_id=UUID(int=2), mtu=1400)


def subnet(**fields: object) -> Subnet:
    defaults: dict[str, object] = {
        "id": UUID(int=3),
        "network_id": NET.id,
        "project_id": NET.project_id,
        "cidr": "10.0.0.0/24",
        "gateway_ip": "10.0.0.1",
    }
    return Subnet.model_validate(defaults | fields)


def test_ipv4_options_name_router_server_lease_mtu_and_dns() -> None:
    options = dhcp_options(subnet(dns_nameservers=("8.8.8.8", "1.1.1.1")), NET)
    assert options == {
        "lease_time": "43200",
        "router": "10.0.0.1",
        "server_id": "10.0.0.1",
        "server_mac": names.derived_mac(UUID(int=3)),
        "mtu": "1400",
        "dns_server": "{8.8.8.8, 1.1.1.1}",
    }


def test_host_routes_become_classless_routes_keeping_the_default() -> None:
    routes = (HostRoute(destination="192.168.0.0/16", nexthop="10.0.0.254"),)
    options = dhcp_options(subnet(host_routes=routes), NET)
    assert options["classless_static_route"] == ("{192.168.0.0/16,10.0.0.254, 0.0.0.0/0,10.0.0.1}")


def test_without_gateway_the_server_is_the_first_host_and_no_router() -> None:
    options = dhcp_options(subnet(gateway_ip=None), NET)
    assert options["server_id"] == "10.0.0.1" and "router" not in options


def test_ipv6_stateless() -> None:
    options = dhcp_options(
        subnet(
            ip_version=6,
            cidr="fd00::/64",
            gateway_ip="fd00::1",
            ipv6_address_mode=Ipv6Mode.DHCPV6_STATELESS,
        ),
        NET,
    )
    assert options == {"server_id": names.derived_mac(UUID(int=3)), "dhcpv6_stateless": "true"}


def test_derived_macs_are_stable_and_locally_administered() -> None:
    mac = names.derived_mac("x")
    assert mac == names.derived_mac("x") != names.derived_mac("y")
    assert mac.startswith("02:") and len(mac.split(":")) == 6
