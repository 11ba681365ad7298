"""Pure naming and numbering of the DVR plumbing (interface names fit IFNAMSIZ, 15).

    host netns          qrouter-<r>          fip-<ext>          snat-<r> (network node)
    brq<net> -- tq<port>|qr-<port>            fg-<ext>|tf<ext> -- external bridge
                         rfp-<r> ---------- fpr-<r>
    brq<net> -- ts<port>|------------------------------------ sg-<port>
    external bridge -- tg<r>|------------------------------- qg-<r>

A qrouter never ARPs across hosts: it has a permanent neighbour entry for every port on
its subnets and for the snat addresses (their MACs are derived, `snat_mac`), and the
host drops every ARP packet from or for a gateway address on its VXLAN ports.

Policy routing in qrouter: the main table holds the connected subnets (east-west); rules
after it send a floating IP's fixed address to table 16 (default via the fip namespace)
and each subnet to its own table (default via the network node's snat address there).
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from uuid import UUID

from node_agent.drivers.dvr.base import RouterPlan

FIP_TABLE = 16
FIP_RULES = range(32768, 36000)
SNAT_RULES = range(40000, 44000)
SNAT_TABLE_BASE = 100
FORWARDING = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
}


def _short(owner: UUID) -> str:
    return owner.hex[:11]


def qr(port: UUID) -> str:
    return f"qr-{_short(port)}"


def qr_host(port: UUID) -> str:
    return f"tq{_short(port)}"


def sg(port: UUID) -> str:
    return f"sg-{_short(port)}"


def sg_host(port: UUID) -> str:
    return f"ts{_short(port)}"


def qg(router: UUID) -> str:
    return f"qg-{_short(router)}"


def qg_host(router: UUID) -> str:
    return f"tg{_short(router)}"


def fg(ext: UUID) -> str:
    return f"fg-{_short(ext)}"


def fg_host(ext: UUID) -> str:
    return f"tf{_short(ext)}"


def rfp(router: UUID) -> str:
    return f"rfp-{_short(router)}"


def fpr(router: UUID) -> str:
    return f"fpr-{_short(router)}"


def vxlan(vni: int) -> str:
    return f"vxlan-{vni}"


def host_mac(host: str, port: UUID) -> str:
    """A router interface's MAC on this host: the gateway address is the same everywhere,
    its MAC differs per host (Neutron's per-host DVR MAC), so bridges learn no flapping."""
    digest = hashlib.sha256(f"{host}/{port}".encode()).digest()
    return "fa:16:3f:" + ":".join(f"{b:02x}" for b in digest[:3])


def snat_mac(port: UUID) -> str:
    """The network node's MAC on a subnet: fixed, so every qrouter knows it in advance."""
    return host_mac("snat", port)


def link_pair(router: UUID) -> tuple[IPv4Interface, IPv4Interface]:
    """The rfp/fpr /31 in 169.254.0.0/16, derived from the router id (stable on restart)."""
    n = int.from_bytes(hashlib.sha256(router.bytes).digest()[:2], "big") & 0xFFFE
    base = IPv4Address("169.254.0.0") + n
    return IPv4Interface(f"{base}/31"), IPv4Interface(f"{base + 1}/31")


def snat_rules(plan: RouterPlan) -> dict[int, tuple[IPv4Network, int]]:
    if plan.gateway is None or not plan.gateway.enable_snat:
        return {}
    ports = sorted((i for i in plan.interfaces if i.snat_ip), key=lambda i: i.port_id)
    return {SNAT_RULES.start + n: (i.cidr, SNAT_TABLE_BASE + n) for n, i in enumerate(ports)}


def snat_routes(plan: RouterPlan) -> dict[int, tuple[IPv4Address, str]]:
    """table -> (the snat address, the qr device) for every subnet routed to snat."""
    by_cidr = {i.cidr: i for i in plan.interfaces}
    return {
        table: (ip, qr(by_cidr[cidr].port_id))
        for _, (cidr, table) in snat_rules(plan).items()
        if (ip := by_cidr[cidr].snat_ip) is not None
    }


def neighbours(plan: RouterPlan) -> dict[str, dict[IPv4Address, str]]:
    """qr device -> {address: MAC}: the ports on its subnet and the snat address."""
    found: dict[str, dict[IPv4Address, str]] = {}
    for i in plan.interfaces:
        table = {n.ip: n.mac for n in plan.neighbours if n.ip in i.cidr and n.ip != i.ip}
        if i.snat_ip is not None:
            table[i.snat_ip] = snat_mac(i.port_id)
        found[qr(i.port_id)] = table
    return found


def fip_rules(plan: RouterPlan) -> dict[int, tuple[IPv4Network, int]]:
    fixed = sorted({f.fixed_ip for f in plan.floating_ips})
    return {FIP_RULES.start + n: (IPv4Network(f"{ip}/32"), FIP_TABLE) for n, ip in enumerate(fixed)}
