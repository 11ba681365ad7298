"""Bring one namespace (or the host's wiring) to its plan; return what had to change.

Each function compares first and changes only the difference, so applying an unchanged
plan to an adopted namespace touches nothing but the nftables table (replaced atomically).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from uuid import UUID

from node_agent.drivers.dvr import kernel, layout, nft
from node_agent.drivers.dvr.base import NetworkWiring, RouterPlan, bridge_name
from node_agent.drivers.dvr.kernel import Netns
from node_agent.drivers.dvr.options import DvrOptions
from node_agent.drivers.errors import DriverError

DEFAULT = IPv4Network("0.0.0.0/0")


def _iface(ip: object, cidr: IPv4Network) -> IPv4Interface:
    return IPv4Interface(f"{ip}/{cidr.prefixlen}")


async def _namespace(name: str, changes: list[str]) -> Netns:
    if await kernel.create(name):
        changes.append(f"namespace {name}")
    ns = Netns(name)
    await ns.sysctl(layout.FORWARDING)
    await ns.set_link("lo")
    return ns


async def _port(
    host: Netns, outer: str, ns: Netns, inner: str, bridge: str, changes: list[str]
) -> None:
    """A veth from `bridge` on the host into `ns`."""
    assert ns.name is not None
    if await host.index(bridge) is None:
        raise DriverError(f"bridge {bridge} is missing on this host", retryable=True)
    if await host.ensure_veth(outer, inner, ns.name):
        changes.append(f"link {inner} in {ns.name}")
    await host.set_link(outer, master=bridge)
    await ns.set_link(inner)


async def _prune(ns: Netns, prefix: str, keep: set[str], changes: list[str]) -> None:
    for name in await ns.links():
        if name.startswith(prefix) and name not in keep:
            await ns.delete_link(name)
            changes.append(f"removed {name} from {ns.name}")


async def network(opts: DvrOptions, host: Netns, wiring: NetworkWiring) -> list[str]:
    changes: list[str] = []
    bridge, vx = bridge_name(wiring.network_id), layout.vxlan(wiring.vni)
    if await host.ensure_bridge(bridge):
        changes.append(f"bridge {bridge}")
    if await host.ensure_vxlan(vx, wiring.vni, opts.underlay_ip, opts.vxlan_peers):
        changes.append(f"vxlan {vx}")
    await host.set_link(vx, master=bridge)
    return changes


async def qrouter(opts: DvrOptions, host: Netns, plan: RouterPlan, fip_ns: str | None) -> list[str]:
    changes: list[str] = []
    rid = plan.router_id
    q = await _namespace(f"{opts.prefix}qrouter-{rid}", changes)
    for i in plan.interfaces:
        inner = layout.qr(i.port_id)
        await _port(host, layout.qr_host(i.port_id), q, inner, bridge_name(i.network_id), changes)
        await q.set_link(inner, mac=layout.host_mac(opts.host, i.port_id))
        if await q.ensure_addresses(inner, [_iface(i.ip, i.cidr)]):
            changes.append(f"address {i.ip} on {inner}")
    await _prune(q, "qr-", {layout.qr(i.port_id) for i in plan.interfaces}, changes)
    for device, known in layout.neighbours(plan).items():
        if await q.ensure_neighbours(device, known):
            changes.append(f"neighbours of {device}")
    rfp, near, far = layout.rfp(rid), *layout.link_pair(rid)
    routes: dict[IPv4Network, tuple[IPv4Address | None, str]] = {}
    if fip_ns is not None:
        if await q.ensure_veth(rfp, layout.fpr(rid), fip_ns):
            changes.append(f"link {rfp} in {q.name}")
        await q.set_link(rfp)
        await Netns(fip_ns).set_link(layout.fpr(rid))
        await q.ensure_addresses(rfp, [near])
        await Netns(fip_ns).ensure_addresses(layout.fpr(rid), [far])
        routes[DEFAULT] = (far.ip, rfp)
    else:
        await _prune(q, "rfp-", set(), changes)
    if await q.ensure_routes(layout.FIP_TABLE, routes):
        changes.append(f"floating-IP routes in {q.name}")
    if await q.ensure_rules(layout.fip_rules(plan), layout.FIP_RULES):
        changes.append(f"floating-IP rules in {q.name}")
    if await q.ensure_rules(layout.snat_rules(plan), layout.SNAT_RULES):
        changes.append(f"snat rules in {q.name}")
    for table, (ip, dev) in layout.snat_routes(plan).items():
        if await q.ensure_routes(table, {DEFAULT: (ip, dev)}):
            changes.append(f"snat route table {table} in {q.name}")
    fips = [(f.floating_ip, f.fixed_ip) for f in plan.floating_ips] if fip_ns else []
    await q.nft(nft.qrouter_ruleset(fips, rfp))
    return changes


async def fip(opts: DvrOptions, host: Netns, ext: UUID, users: list[RouterPlan]) -> list[str]:
    """The fip namespace of external network `ext`, for the routers with local FIPs."""
    changes: list[str] = []
    gateway = users[0].gateway
    assert gateway is not None
    fg_ip = gateway.fip_host_ip or opts.fip_hosts.get(gateway.cidr)
    if fg_ip is None:
        raise DriverError(f"no address of this host on external network {ext} (fip_host_ip)")
    f = await _namespace(f"{opts.prefix}fip-{ext}", changes)
    fg = layout.fg(ext)
    await _port(host, layout.fg_host(ext), f, fg, opts.external_bridge, changes)
    if await f.ensure_addresses(fg, [_iface(fg_ip, gateway.cidr)]):
        changes.append(f"address {fg_ip} on {fg}")
    await f.sysctl({f"net.ipv4.conf.{fg}.proxy_arp": "1", f"net.ipv4.neigh.{fg}.proxy_delay": "0"})
    routes: dict[IPv4Network, tuple[IPv4Address | None, str]] = {DEFAULT: (gateway.gateway_ip, fg)}
    for plan in users:
        far_router = layout.link_pair(plan.router_id)[0].ip
        for floating in plan.floating_ips:
            routes[IPv4Network(f"{floating.floating_ip}/32")] = (
                far_router,
                layout.fpr(plan.router_id),
            )
    await _prune(f, "fpr-", {layout.fpr(p.router_id) for p in users}, changes)
    if await f.ensure_routes(254, routes):
        changes.append(f"routes in {f.name}")
    return changes


async def snat(opts: DvrOptions, host: Netns, plan: RouterPlan) -> list[str]:
    changes: list[str] = []
    s = await _namespace(f"{opts.prefix}snat-{plan.router_id}", changes)
    ports = [i for i in plan.interfaces if i.snat_ip is not None]
    for i in ports:
        inner = layout.sg(i.port_id)
        await _port(host, layout.sg_host(i.port_id), s, inner, bridge_name(i.network_id), changes)
        await s.set_link(inner, mac=layout.snat_mac(i.port_id))
        if await s.ensure_addresses(inner, [_iface(i.snat_ip, i.cidr)]):
            changes.append(f"address {i.snat_ip} on {inner}")
    await _prune(s, "sg-", {layout.sg(i.port_id) for i in ports}, changes)
    qg, gw = layout.qg(plan.router_id), plan.gateway
    if gw is None:
        await _prune(s, "qg-", set(), changes)
        await s.nft(nft.snat_ruleset(qg, None, []))
        return changes
    await _port(host, layout.qg_host(plan.router_id), s, qg, opts.external_bridge, changes)
    if await s.ensure_addresses(qg, [_iface(gw.router_ip, gw.cidr)]):
        changes.append(f"address {gw.router_ip} on {qg}")
    if await s.ensure_routes(254, {DEFAULT: (gw.gateway_ip, qg)}):
        changes.append(f"default route in {s.name}")
    subnets = [i.cidr for i in plan.interfaces] if gw.enable_snat else []
    await s.nft(nft.snat_ruleset(qg, gw.router_ip, subnets))
    return changes
