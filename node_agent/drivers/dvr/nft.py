"""nftables rulesets of the DVR namespaces, as text for `nft -f`.

Each namespace has one table, `ip skymesh` (the host: `bridge skymesh_dvr`), replaced
atomically: the text declares the table, deletes it and declares it again in one
transaction, so there is never a moment without rules and conntrack entries survive.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

TABLE = "skymesh"
HOST_TABLE = "skymesh_dvr"


def _replace(family: str, table: str, body: list[str]) -> str:
    head = [
        f"table {family} {table}",
        f"delete table {family} {table}",
        f"table {family} {table} {{",
    ]
    return "\n".join([*head, *body, "}", ""])


def qrouter_ruleset(fips: Iterable[tuple[IPv4Address, IPv4Address]], rfp: str) -> str:
    """Floating IPs of local ports: DNAT in, SNAT out through the fip namespace link."""
    pairs = sorted(fips)
    body = ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"]
    body += [f"    ip daddr {fip} dnat to {fixed}" for fip, fixed in pairs]
    body += ["  }", "  chain postrouting {"]
    body += ["    type nat hook postrouting priority srcnat; policy accept;"]
    body += [f'    oifname "{rfp}" ip saddr {fixed} snat to {fip}' for fip, fixed in pairs]
    body += ["  }"]
    return _replace("ip", TABLE, body)


def snat_ruleset(qg: str, router_ip: IPv4Address | None, subnets: Iterable[IPv4Network]) -> str:
    """Everything from the router's subnets leaving by the gateway gets its address."""
    body = [
        "  chain postrouting {",
        "    type nat hook postrouting priority srcnat; policy accept;",
    ]
    if router_ip is not None:
        body += [
            f'    oifname "{qg}" ip saddr {net} snat to {router_ip}' for net in sorted(subnets)
        ]
    body += ["  }"]
    return _replace("ip", TABLE, body)


def host_ruleset(gateways: Iterable[IPv4Address]) -> str:
    """Keep each host's router gateways local: no ARP packet for or from a gateway address
    crosses a VXLAN port, so guests resolve (and keep) their own host's qrouter. The
    qrouters need no ARP across hosts: they know every neighbour in advance."""
    ips = sorted(set(gateways))
    body = ["  chain forward {", "    type filter hook forward priority 0; policy accept;"]
    if ips:
        addrs = ", ".join(str(ip) for ip in ips)
        body += [f'    oifname "vxlan-*" arp daddr ip {{ {addrs} }} drop']
        body += [f'    oifname "vxlan-*" arp saddr ip {{ {addrs} }} drop']
    body += ["  }"]
    return _replace("bridge", HOST_TABLE, body)


def delete_table(family: str, table: str) -> str:
    return f"table {family} {table}\ndelete table {family} {table}\n"
