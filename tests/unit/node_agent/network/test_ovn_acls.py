"""Security group rules -> OVN ACL matches (Neutron's layout: drop 1001, allow 1002)."""

from __future__ import annotations

from uuid import UUID

from node_agent.drivers.network.ovn_acls import drop_acls, rule_acl
from schemas.security_group import Direction, EtherType, SecurityGroupRule

SG, REMOTE = UUID(int=1), UUID(int=2)
PG = "pg_00000000_0000_0000_0000_000000000001"
PG_REMOTE = "pg_00000000_0000_0000_0000_000000000002"


def rule(**fields: object) -> SecurityGroupRule:
    defaults: dict[str, object] = {"id": UUID(int=9), "security_group_id": SG}
    return SecurityGroupRule.model_validate(defaults | fields)


def test_ingress_tcp_port_range_from_a_remote_group() -> None:
    acl = rule_acl(
        rule(
            direction=Direction.INGRESS,
            protocol="tcp",
            port_range_min=8000,
            port_range_max=8080,
            remote_group_id=REMOTE,
        )
    )
    assert acl.direction == "to-lport"
    assert acl.priority == 1002
    assert acl.action == "allow-related"
    assert acl.match == (
        f"outport == @{PG} && ip4 && ip4.src == ${PG_REMOTE}_ip4"
        " && tcp && tcp.dst >= 8000 && tcp.dst <= 8080"
    )
    assert dict(acl.external_ids)["skymesh:security_group_rule_id"] == str(UUID(int=9))


def test_egress_single_udp_port_to_a_prefix() -> None:
    acl = rule_acl(
        rule(
            direction=Direction.EGRESS,
            protocol="udp",
            port_range_min=53,
            port_range_max=53,
            remote_ip_prefix="10.0.0.0/8",
        )
    )
    assert acl.direction == "from-lport"
    assert acl.match == f"inport == @{PG} && ip4 && ip4.dst == 10.0.0.0/8 && udp && udp.dst == 53"


def test_icmp_type_and_code_and_ipv6() -> None:
    v4 = rule_acl(rule(direction=Direction.INGRESS, protocol="icmp", port_range_min=8))
    assert v4.match == f"outport == @{PG} && ip4 && icmp4 && icmp4.type == 8"
    v6 = rule_acl(
        rule(
            direction=Direction.INGRESS,
            ethertype=EtherType.IPV6,
            protocol="icmp",
            port_range_min=128,
            port_range_max=0,
        )
    )
    assert v6.match == f"outport == @{PG} && ip6 && icmp6 && icmp6.type == 128 && icmp6.code == 0"


def test_any_protocol_full_port_range_and_numbered_protocols() -> None:
    assert rule_acl(rule(direction=Direction.EGRESS)).match == f"inport == @{PG} && ip4"
    full = rule_acl(
        rule(direction=Direction.INGRESS, protocol="tcp", port_range_min=1, port_range_max=65535)
    )
    assert full.match == f"outport == @{PG} && ip4 && tcp"
    assert rule_acl(rule(direction=Direction.INGRESS, protocol="6")).match.endswith("&& tcp")
    assert rule_acl(rule(direction=Direction.INGRESS, protocol="gre")).match.endswith(
        "ip.proto == 47"
    )
    assert rule_acl(rule(direction=Direction.INGRESS, protocol="112")).match.endswith(
        "ip.proto == 112"
    )


def test_stateless_group_allows_without_conntrack() -> None:
    acl = rule_acl(rule(direction=Direction.INGRESS), stateful=False)
    assert acl.action == "allow-stateless"


def test_drop_group_drops_ip_both_ways_but_lets_dhcp_requests_out() -> None:
    acls = drop_acls()
    drops = {a.direction: a for a in acls if a.action == "drop"}
    assert drops["from-lport"].priority == 1001
    assert drops["to-lport"].match == "outport == @skymesh_pg_drop && ip"
    allows = [a for a in acls if a.action == "allow"]
    assert all(a.priority == 1002 and a.direction == "from-lport" for a in allows)
    assert any("udp.dst == 67" in a.match for a in allows)
    assert any("udp.dst == 547" in a.match for a in allows)
