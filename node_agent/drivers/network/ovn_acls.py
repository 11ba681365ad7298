"""Security groups as OVN port groups with stateful ACLs (Neutron's OVN layout).

Every port with port security is in the drop group `skymesh_pg_drop`, whose ACLs drop all IP
traffic into and out of its ports at priority 1001 (DHCPv4/v6 requests may always leave,
so native DHCP keeps working; northd itself lets the DHCP replies and IPv6 ND through).
A security group is a Port_Group `pg_<id>` holding its ports, with one ACL per rule at
priority 1002, action `allow-related`: the rule admits a new connection
and OVN's conntrack lets its replies and related packets through (allow established).
Ingress rules are `to-lport` ACLs matching `outport == @pg_<id>`, egress rules `from-lport`
matching `inport == @pg_<id>`; a remote group is the address set OVN keeps for a port group,
`$pg_<remote>_ip4` (or `_ip6`), so membership changes need no ACL rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.ovn_idl import Row, Tx
from schemas.security_group import (
    PROTOCOL_NAMES,
    Direction,
    EtherType,
    SecurityGroup,
    SecurityGroupRule,
)

DROP_PRIORITY = 1001
ALLOW_PRIORITY = 1002
_ICMP = {4: "icmp4", 6: "icmp6"}
_NAMED = {"tcp", "udp", "sctp"}
_NUMBERED = {"6": "tcp", "17": "udp", "132": "sctp", "1": "icmp", "58": "icmpv6"}


@dataclass(frozen=True)
class AclSpec:
    direction: str  # to-lport | from-lport
    priority: int
    match: str
    action: str
    external_ids: tuple[tuple[str, str], ...] = ()

    def key(self) -> tuple[str, int, str, str]:
        return self.direction, self.priority, self.match, self.action


def _protocol_match(rule: SecurityGroupRule, version: int) -> list[str]:
    proto = _NUMBERED.get(rule.protocol or "", rule.protocol)
    if proto is None:
        return []
    if proto in _NAMED:
        parts = [proto]
        low, high = rule.port_range_min, rule.port_range_max
        if low is not None and high is not None:
            if low == high:
                parts.append(f"{proto}.dst == {low}")
            elif (low, high) != (1, 65535):
                parts.append(f"{proto}.dst >= {low} && {proto}.dst <= {high}")
        return parts
    if proto in ("icmp", "icmpv6", "ipv6-icmp"):
        icmp = _ICMP[version]
        parts = [icmp]
        if rule.port_range_min is not None:
            parts.append(f"{icmp}.type == {rule.port_range_min}")
        if rule.port_range_max is not None:
            parts.append(f"{icmp}.code == {rule.port_range_max}")
        return parts
    number = rule.protocol if (rule.protocol or "").isdigit() else None
    if number is None:
        number = str(PROTOCOL_NAMES[proto])
    return [f"ip.proto == {number}"]


def rule_acl(rule: SecurityGroupRule, stateful: bool = True) -> AclSpec:
    """The ACL of one security group rule."""
    group = names.port_group(rule.security_group_id)
    version = 6 if rule.ethertype is EtherType.IPV6 else 4
    ingress = rule.direction is Direction.INGRESS
    parts = [f"outport == @{group}" if ingress else f"inport == @{group}", f"ip{version}"]
    remote = "src" if ingress else "dst"
    if rule.remote_ip_prefix is not None:
        parts.append(f"ip{version}.{remote} == {rule.remote_ip_prefix}")
    elif rule.remote_group_id is not None:
        parts.append(
            f"ip{version}.{remote} == ${names.port_group(rule.remote_group_id)}_ip{version}"
        )
    parts += _protocol_match(rule, version)
    return AclSpec(
        direction="to-lport" if ingress else "from-lport",
        priority=ALLOW_PRIORITY,
        match=" && ".join(parts),
        action="allow-related" if stateful else "allow-stateless",
        external_ids=(
            (names.RULE_ID, str(rule.id)),
            (names.SECURITY_GROUP_ID, str(rule.security_group_id)),
        ),
    )


def drop_acls() -> list[AclSpec]:
    group = names.DROP_GROUP
    return [
        AclSpec("from-lport", DROP_PRIORITY, f"inport == @{group} && ip", "drop"),
        AclSpec("to-lport", DROP_PRIORITY, f"outport == @{group} && ip", "drop"),
        AclSpec(
            "from-lport",
            ALLOW_PRIORITY,
            f"inport == @{group} && ip4 && udp && udp.src == 68 && udp.dst == 67",
            "allow",
        ),
        AclSpec(
            "from-lport",
            ALLOW_PRIORITY,
            f"inport == @{group} && ip6 && udp && udp.src == 546 && udp.dst == 547",
            "allow",
        ),
    ]


def _sync_acls(tx: Tx, group: Row, wanted: list[AclSpec]) -> None:
    by_key = {spec.key(): spec for spec in wanted}
    have: set[tuple[str, int, str, str]] = set()
    for acl in list(group.acls):
        key = (acl.direction, acl.priority, acl.match, acl.action)
        if key not in by_key or key in have:
            tx.drop_ref(group, "acls", acl)
            continue
        have.add(key)
        tx.set(acl, external_ids=dict(by_key[key].external_ids))
    for key, spec in by_key.items():
        if key not in have:
            acl = tx.insert(
                "ACL",
                direction=spec.direction,
                priority=spec.priority,
                match=spec.match,
                action=spec.action,
                external_ids=dict(spec.external_ids),
            )
            tx.add_ref(group, "acls", acl)


def _group(tx: Tx, name: str, external_ids: dict[str, str]) -> Row:
    row = tx.by_name("Port_Group", name)
    if row is None:
        row = tx.insert("Port_Group", name=name)
    tx.set(row, external_ids=external_ids)
    return row


def ensure_drop_group(tx: Tx) -> Row:
    row = _group(tx, names.DROP_GROUP, {names.OWNER: "security_group"})
    _sync_acls(tx, row, drop_acls())
    return row


def placeholder_group(tx: Tx, security_group_id: UUID) -> Row:
    """The group's Port_Group, created empty when the group itself is not ensured yet."""
    row = tx.by_name("Port_Group", names.port_group(security_group_id))
    if row is None:
        row = tx.insert(
            "Port_Group",
            name=names.port_group(security_group_id),
            external_ids={names.SECURITY_GROUP_ID: str(security_group_id)},
        )
    return row


def ensure_port_group(tx: Tx, sg: SecurityGroup) -> Row:
    external_ids = {names.SECURITY_GROUP_ID: str(sg.id), "skymesh:security_group_name": sg.name}
    row = _group(tx, names.port_group(sg.id), external_ids)
    for rule in sg.rules:
        if rule.remote_group_id is not None:
            placeholder_group(tx, rule.remote_group_id)
    _sync_acls(tx, row, [rule_acl(rule, sg.stateful) for rule in sg.rules])
    return row


def delete_port_group(tx: Tx, security_group_id: UUID) -> bool:
    row = tx.by_name("Port_Group", names.port_group(security_group_id))
    if row is None:
        return False
    tx.delete(row)
    return True
