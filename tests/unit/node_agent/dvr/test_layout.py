"""Names, numbers and nftables text of the namespace DVR (pure, no kernel)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from uuid import UUID, uuid4

from node_agent.drivers.dvr import layout, nft
from node_agent.drivers.dvr.base import (
    FloatingIpPlan,
    GatewayPlan,
    NeighbourPlan,
    RouterInterfacePlan,
    RouterPlan,
    bridge_name,
)

ROUTER = UUID("3c3fc874-5863-4ea1-b16e-55994fbc5eac")


def port(n: int) -> UUID:
    return UUID(int=n << 120)  # names use the first 11 hex digits


def plan() -> RouterPlan:
    return RouterPlan(
        router_id=ROUTER,
        interfaces=tuple(
            RouterInterfacePlan(
                port_id=port(n),
                network_id=UUID(int=100 + n),
                cidr=IPv4Network(f"10.{n}.0.0/24"),
                ip=IPv4Address(f"10.{n}.0.1"),
                snat_ip=IPv4Address(f"10.{n}.0.254"),
            )
            for n in (1, 2)
        ),
        gateway=GatewayPlan(
            network_id=UUID(int=777),
            cidr=IPv4Network("203.0.113.0/24"),
            gateway_ip=IPv4Address("203.0.113.1"),
            router_ip=IPv4Address("203.0.113.10"),
        ),
        floating_ips=(
            FloatingIpPlan(
                floating_ip=IPv4Address("203.0.113.50"), fixed_ip=IPv4Address("10.1.0.10")
            ),
        ),
    )


def test_interface_names_fit_ifnamsiz() -> None:
    owner = uuid4()
    names = [
        f(owner)
        for f in (layout.qr, layout.qr_host, layout.sg, layout.sg_host, layout.qg, layout.fg)
    ]
    names += [layout.rfp(owner), layout.fpr(owner), bridge_name(owner), layout.vxlan(2**24 - 1)]
    assert all(len(name) <= 15 for name in names), names
    assert len(set(names)) == len(names)


def test_router_macs_differ_per_host_and_are_stable() -> None:
    port = uuid4()
    assert layout.host_mac("compute-1", port) == layout.host_mac("compute-1", port)
    assert layout.host_mac("compute-1", port) != layout.host_mac("compute-2", port)
    assert layout.host_mac("compute-1", port).startswith("fa:16:3f:")


def test_link_pair_is_a_link_local_slash_31() -> None:
    near, far = layout.link_pair(ROUTER)
    assert near.network == far.network and near.network.prefixlen == 31
    assert near.ip in IPv4Network("169.254.0.0/16") and far.ip == near.ip + 1


def test_policy_rules_fip_before_snat_after_main() -> None:
    fips, snats = layout.fip_rules(plan()), layout.snat_rules(plan())
    assert list(fips.values()) == [(IPv4Network("10.1.0.10/32"), layout.FIP_TABLE)]
    assert [cidr for cidr, _ in snats.values()] == [
        IPv4Network("10.1.0.0/24"),
        IPv4Network("10.2.0.0/24"),
    ]
    assert min(fips) > 32766 and max(fips) < min(snats)  # after main (east-west) first
    routes = layout.snat_routes(plan())
    assert sorted(ip for ip, _ in routes.values()) == [
        IPv4Address("10.1.0.254"),
        IPv4Address("10.2.0.254"),
    ]


def test_no_snat_rules_without_snat() -> None:
    gateway = plan().gateway
    assert gateway is not None
    off = plan().model_copy(update={"gateway": gateway.model_copy(update={"enable_snat": False})})
    assert layout.snat_rules(off) == {}


def test_rulesets_replace_their_table_atomically() -> None:
    text = nft.qrouter_ruleset([(IPv4Address("203.0.113.50"), IPv4Address("10.1.0.10"))], "rfp-x")
    first = text.splitlines()[:3]
    assert first == ["table ip skymesh", "delete table ip skymesh", "table ip skymesh {"]
    assert "ip daddr 203.0.113.50 dnat to 10.1.0.10" in text
    assert 'oifname "rfp-x" ip saddr 10.1.0.10 snat to 203.0.113.50' in text
    snat = nft.snat_ruleset("qg-x", IPv4Address("203.0.113.10"), [IPv4Network("10.1.0.0/24")])
    assert 'oifname "qg-x" ip saddr 10.1.0.0/24 snat to 203.0.113.10' in snat
    assert "snat to" not in nft.snat_ruleset("qg-x", None, [IPv4Network("10.1.0.0/24")])


def test_host_ruleset_keeps_gateway_arp_local() -> None:
    text = nft.host_ruleset([IPv4Address("10.1.0.1"), IPv4Address("10.1.0.1")])
    assert text.count("drop") == 2 and "{ 10.1.0.1 }" in text
    assert "drop" not in nft.host_ruleset([])


def test_qrouter_knows_every_neighbour_and_the_snat_address() -> None:
    guests = (
        NeighbourPlan(ip=IPv4Address("10.1.0.10"), mac="02:00:00:00:00:10"),
        NeighbourPlan(ip=IPv4Address("10.2.0.10"), mac="02:00:00:00:00:20"),
    )
    known = layout.neighbours(plan().model_copy(update={"neighbours": guests}))
    assert known[layout.qr(port(1))] == {
        IPv4Address("10.1.0.10"): "02:00:00:00:00:10",
        IPv4Address("10.1.0.254"): layout.snat_mac(port(1)),
    }
    assert IPv4Address("10.1.0.10") not in known[layout.qr(port(2))]
