"""The namespace DVR driver on real namespaces: two compute hosts, a network node and an
external network, each a namespace; guests are namespaces on the hosts' bridges.

    external (203.0.113.1, a TCP server echoing the peer address) -- brx
      |-- br-ex of compute c  (fip-<ext> answers for 203.0.113.50)
      |-- br-ex of network n  (snat-<router> is 203.0.113.10)
    c, n and compute d share an underlay bridge (VXLAN between them)
    on c: g1 10.1.0.10 (net1, floating IP 203.0.113.50), g2 10.2.0.10 (net2)
    on d: g3 10.1.0.30 (net1)

The tests run in order on one module-scoped lab (a fresh driver per test reads the saved
plans, as a restarted agent would); the last one deletes everything and checks that
nothing is left. Everything is named with a random suffix and removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from uuid import uuid4

import pytest

from node_agent.drivers.dvr import layout
from node_agent.drivers.dvr.base import (
    FloatingIpPlan,
    GatewayPlan,
    NeighbourPlan,
    NetworkWiring,
    RouterInterfacePlan,
    RouterPlan,
    bridge_name,
)
from node_agent.drivers.dvr.namespaces import NamespaceDvr
from node_agent.drivers.dvr.options import DvrOptions

pytestmark = pytest.mark.integration

EXT_GW, ROUTER_IP, FIP, FIP_HOST = "203.0.113.1", "203.0.113.10", "203.0.113.50", "203.0.113.20"
PORT = 7007
UNDERLAY = "192.168.77"
GUESTS = {  # name: (host, network index, address, MAC)
    "g1": ("c", 1, "10.1.0.10", "02:00:00:01:00:10"),
    "g2": ("c", 2, "10.2.0.10", "02:00:00:02:00:10"),
    "g3": ("d", 1, "10.1.0.30", "02:00:00:01:00:30"),
}
SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(16)
while True:
    c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()
"""
CLIENT = (
    "import socket,sys; print(socket.create_connection((sys.argv[1], %d), 3).recv(64).decode())"
)


def sh(*argv: str, check: bool = True) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {done.stderr}")
    return done.stdout


def nsx(ns: str, *argv: str, check: bool = True) -> str:
    return sh("ip", "netns", "exec", ns, *argv, check=check)


def ping(ns: str, dst: str, count: int = 2) -> bool:
    done = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", "0.2", "-W", "1", dst],
        capture_output=True,
    )
    return done.returncode == 0


def peer_seen(guest: str, dst: str) -> str:
    """The source address the external server saw for a TCP connection from `guest`."""
    return nsx(guest, sys.executable, "-c", CLIENT % PORT, dst).strip()


@dataclass
class Lab:
    tag: str
    state: Path
    compute: DvrOptions
    network: DvrOptions
    compute2: DvrOptions
    net1: NetworkWiring
    net2: NetworkWiring
    router: RouterPlan  # as the compute host sees it (with g1's floating IP)
    external: str
    guests: dict[str, str]
    servers: list[subprocess.Popen[bytes]]

    def serve(self, ns: str) -> None:
        """The TCP server echoing the peer address, in namespace `ns`."""
        argv = ["ip", "netns", "exec", ns, sys.executable, "-c", SERVER % PORT]
        self.servers.append(subprocess.Popen(argv))
        for _ in range(50):
            if f":{PORT}" in nsx(ns, "ss", "-ltn"):
                return
            time.sleep(0.1)

    def driver(self, opts: DvrOptions) -> NamespaceDvr:
        return NamespaceDvr(opts, self.state / (opts.host_netns or "host"))

    def ns(self, role: str) -> str:
        return f"{self.tag}{role}"


def _plug(host: str, guest: str, bridge: str, ip: str, gw: str, mac: str) -> None:
    sh("ip", "netns", "add", guest)
    outer = f"v{guest[-6:]}"
    sh("ip", "-n", host, "link", "add", outer, "type", "veth", "peer", "eth0", "netns", guest)
    sh("ip", "-n", host, "link", "set", outer, "master", bridge, "up")
    sh("ip", "-n", guest, "link", "set", "lo", "up")
    sh("ip", "-n", guest, "link", "set", "eth0", "address", mac, "up")
    sh("ip", "-n", guest, "addr", "add", ip, "dev", "eth0")
    sh("ip", "-n", guest, "route", "add", "default", "via", gw)


def _hosts(tag: str) -> None:
    """Four namespaces: compute hosts (c, d), network node (n), external (x); the hosts
    share an underlay bridge and an external bridge in x."""
    for role in "cdnx":
        sh("ip", "netns", "add", f"{tag}{role}")
        sh("ip", "-n", f"{tag}{role}", "link", "set", "lo", "up")
    x = f"{tag}x"
    sh("ip", "-n", x, "link", "add", "brx", "type", "bridge")
    sh("ip", "-n", x, "addr", "add", f"{EXT_GW}/24", "dev", "brx")
    sh("ip", "-n", x, "link", "add", "ul", "type", "bridge")
    for bridge in ("brx", "ul"):
        sh("ip", "-n", x, "link", "set", bridge, "up")
    for n, role in enumerate("cnd", start=1):
        host = f"{tag}{role}"
        sh("ip", "-n", host, "link", "add", "br-ex", "type", "bridge")
        sh("ip", "-n", host, "link", "set", "br-ex", "up")
        for outer, inner, bridge in ((f"x{role}", "exup", "brx"), (f"u{role}", "ul0", "ul")):
            sh("ip", "-n", x, "link", "add", outer, "type", "veth", "peer", inner, "netns", host)
            sh("ip", "-n", x, "link", "set", outer, "master", bridge, "up")
            sh("ip", "-n", host, "link", "set", inner, "up")
        sh("ip", "-n", host, "link", "set", "exup", "master", "br-ex")
        sh("ip", "-n", host, "addr", "add", f"{UNDERLAY}.{n}/24", "dev", "ul0")


def _teardown(tag: str, servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        server.kill()
        server.wait(5)
    for name in sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []:
        if name.startswith(tag):
            sh("ip", "netns", "del", name, check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tag = f"dv{secrets.token_hex(3)}"
    servers: list[subprocess.Popen[bytes]] = []
    try:
        _hosts(tag)
        ext = uuid4()
        net1, net2 = (NetworkWiring(network_id=uuid4(), vni=vni) for vni in (4101, 4102))
        gateway = GatewayPlan(
            network_id=ext,
            cidr=IPv4Network("203.0.113.0/24"),
            gateway_ip=IPv4Address(EXT_GW),
            router_ip=IPv4Address(ROUTER_IP),
            fip_host_ip=IPv4Address(FIP_HOST),
        )
        router = RouterPlan(
            router_id=uuid4(),
            interfaces=tuple(
                RouterInterfacePlan(
                    port_id=uuid4(),
                    network_id=net.network_id,
                    cidr=IPv4Network(f"10.{n}.0.0/24"),
                    ip=IPv4Address(f"10.{n}.0.1"),
                    snat_ip=IPv4Address(f"10.{n}.0.2"),
                )
                for n, net in ((1, net1), (2, net2))
            ),
            gateway=gateway,
            floating_ips=(
                FloatingIpPlan(floating_ip=IPv4Address(FIP), fixed_ip=IPv4Address("10.1.0.10")),
            ),
            neighbours=tuple(
                NeighbourPlan(ip=IPv4Address(ip), mac=mac) for _, _, ip, mac in GUESTS.values()
            ),
        )
        ul = {role: IPv4Address(f"{UNDERLAY}.{n}") for n, role in enumerate("cnd", start=1)}

        def options(role: str) -> DvrOptions:
            return DvrOptions(
                host=role,
                host_netns=f"{tag}{role}",
                prefix=f"{tag}{role}-",
                underlay_ip=ul[role],
                vxlan_peers=tuple(ip for r, ip in ul.items() if r != role),
                external_bridge="br-ex",
            )

        lab = Lab(
            tag=tag,
            state=tmp_path_factory.mktemp("dvr"),
            compute=options("c"),
            network=options("n"),
            compute2=options("d"),
            net1=net1,
            net2=net2,
            router=router,
            external=f"{tag}x",
            guests={name: f"{tag}{name}" for name in GUESTS},
            servers=servers,
        )
        lab.serve(lab.external)
        yield lab
    finally:
        _teardown(tag, servers)


async def _build(lab: Lab) -> None:
    compute, network = lab.driver(lab.compute), lab.driver(lab.network)
    compute2 = lab.driver(lab.compute2)
    for driver in (compute, network, compute2):
        await driver.ensure_network(lab.net1)
        await driver.ensure_network(lab.net2)
    await compute.ensure_qrouter(lab.router)
    await compute2.ensure_qrouter(lab.router.model_copy(update={"floating_ips": ()}))
    await network.ensure_snat(lab.router.model_copy(update={"floating_ips": ()}))


async def test_floating_ip_snat_and_east_west(lab: Lab) -> None:
    await _build(lab)
    for name, (role, net, ip, mac) in GUESTS.items():
        bridge = bridge_name((lab.net1 if net == 1 else lab.net2).network_id)
        _plug(lab.ns(role), lab.guests[name], bridge, f"{ip}/24", f"10.{net}.0.1", mac)
    lab.serve(lab.guests["g1"])
    fip_ns = f"{lab.compute.prefix}fip-{lab.router.gateway.network_id}"  # type: ignore[union-attr]
    fg = layout.fg(lab.router.gateway.network_id)  # type: ignore[union-attr]

    def fg_packets() -> int:
        return int(nsx(fip_ns, "cat", f"/sys/class/net/{fg}/statistics/tx_packets"))

    # east-west between the two subnets, through the compute host's qrouter
    assert ping(lab.guests["g1"], "10.2.0.10")
    # the floating IP answers from outside (ICMP and TCP) ...
    assert ping(lab.external, FIP)
    before = fg_packets()
    assert peer_seen(lab.external, FIP) == EXT_GW
    # ... and g1's own traffic leaves as the floating IP, from its compute host's fip namespace
    assert peer_seen(lab.guests["g1"], EXT_GW) == FIP
    assert fg_packets() > before
    # g2 has no floating IP: it leaves through the network node as the router's address
    assert peer_seen(lab.guests["g2"], EXT_GW) == ROUTER_IP
    # g3, on the other compute host: across hosts (VXLAN) to g1 and routed to g2; out
    # through its own qrouter and the network node. Its qrouter's traffic never teaches
    # g1 another host's gateway MAC: g1 still leaves as its floating IP.
    assert ping(lab.guests["g3"], "10.1.0.10")
    assert ping(lab.guests["g3"], "10.2.0.10")
    assert peer_seen(lab.guests["g3"], EXT_GW) == ROUTER_IP
    assert peer_seen(lab.guests["g1"], EXT_GW) == FIP
    qrouter2 = f"{lab.compute2.prefix}qrouter-{lab.router.router_id}"
    assert nsx(qrouter2, "nft", "list", "ruleset").count("dnat") == 0  # no FIP on host d


async def test_namespace_sockets_do_not_signal_the_agent(lab: Lab) -> None:
    """pyroute2 SIGTERMs the child that opens a socket in a namespace; that must not reach
    an agent that stops on SIGTERM (its asyncio signal handler)."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        compute = lab.driver(lab.compute)
        await compute.start()
        await compute.close()
        await asyncio.sleep(0.2)
        assert not stopped.is_set()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _inodes(names: list[str]) -> dict[str, int]:
    return {name: os.stat(f"/run/netns/{name}").st_ino for name in names}


async def test_restart_adopts_without_dropping_traffic(lab: Lab) -> None:
    compute = lab.driver(lab.compute)
    names = await compute.list_namespaces()
    assert len(names) == 2  # qrouter and fip
    inodes = _inodes(names)
    qr = layout.qr(lab.router.interfaces[0].port_id)
    qrouter = f"{lab.compute.prefix}qrouter-{lab.router.router_id}"
    link_before = nsx(qrouter, "cat", f"/sys/class/net/{qr}/ifindex")
    pinger = await asyncio.create_subprocess_exec(
        *("ip", "netns", "exec", lab.external, "ping", "-c", "40", "-i", "0.05", FIP),
        stdout=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(0.3)
    reports: list[str] = []
    await compute.start(reports.append)  # the restarted agent adopts
    await compute.close()
    out = (await asyncio.wait_for(pinger.communicate(), 30))[0].decode()
    received = int(out.split(" received")[0].rsplit(" ", 1)[-1])
    assert received >= 37, out
    assert _inodes(names) == inodes
    assert nsx(qrouter, "cat", f"/sys/class/net/{qr}/ifindex") == link_before
    assert reports == []


async def test_kernel_event_recreates_a_lost_link(lab: Lab) -> None:
    compute = lab.driver(lab.compute)
    reports: list[str] = []
    repaired = asyncio.Event()

    def on_repair(report: str) -> None:
        reports.append(report)
        repaired.set()

    await compute.start(on_repair)
    try:
        port = lab.router.interfaces[1].port_id
        sh("ip", "-n", lab.ns("c"), "link", "del", layout.qr_host(port))  # the veth pair goes
        await asyncio.wait_for(repaired.wait(), 10)
        assert layout.qr(port) in reports[0]
        assert ping(lab.guests["g1"], "10.2.0.10")
    finally:
        await compute.close()


async def test_delete_leaves_nothing(lab: Lab) -> None:
    compute, network = lab.driver(lab.compute), lab.driver(lab.network)
    compute2 = lab.driver(lab.compute2)
    for guest in lab.guests.values():
        sh("ip", "netns", "del", guest)
    for driver in (compute, network, compute2):
        assert await driver.delete_router(lab.router.router_id) is True
        for net in (lab.net1, lab.net2):
            assert await driver.delete_network(net.network_id) is True
        assert await driver.list_namespaces() == []
    await asyncio.sleep(1.5)  # veth peers of deleted namespaces linger about a second
    for host in (lab.ns("c"), lab.ns("n"), lab.ns("d")):
        links = sh("ip", "-n", host, "-o", "link", "show")
        for prefix in ("brq", "vxlan-", "tq", "ts", "tg", "tf"):
            assert f": {prefix}" not in links, links
        assert "skymesh" not in nsx(host, "nft", "list", "tables")
    for role in "cnd":
        assert not any(n.startswith(f"{lab.tag}{role}-") for n in os.listdir("/run/netns"))
