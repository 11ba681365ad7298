"""Idempotent kernel operations on one network namespace, through pyroute2.

`Netns(name)` (None: the agent's own namespace) compares what exists with what is wanted
and changes only the difference: links, addresses, policy rules, routes. sysctls and
nftables go through `ip netns exec` (one subprocess each). Every method returns whether it
changed something, so the driver can report repairs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

import pyroute2
from pyroute2 import AsyncIPRoute, netns

from node_agent.drivers.errors import DriverError

log = logging.getLogger(__name__)
NETNS_DIR = "/run/netns"
NUD_PERMANENT = 0x80

# pyroute2 opens a socket in another namespace from a forked child and then SIGTERMs it.
# The child inherits asyncio's signal wakeup fd, so that SIGTERM reached the agent's own
# loop as if the agent had been told to stop. The child must die by the default action.
pyroute2.config.disable_mp_signal = True


def iproute(name: str | None) -> AsyncIPRoute:
    """An rtnetlink socket in namespace `name` (None: the agent's own)."""
    return AsyncIPRoute(netns=name) if name else AsyncIPRoute()


def exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, name))


async def create(name: str) -> bool:
    if exists(name):
        return False
    await asyncio.to_thread(netns.create, name)  # forks: never on the event loop
    return True


async def remove(name: str) -> bool:
    if not exists(name):
        return False
    await asyncio.to_thread(netns.remove, name)
    return True


def listed(prefix: str = "") -> list[str]:
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


async def run(argv: list[str], stdin: str | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if proc.returncode != 0:
        raise DriverError(f"{' '.join(argv[:6])}: {err.decode().strip()}")
    return out.decode()


async def _all(gen: Any) -> list[Any]:
    return [msg async for msg in await gen]


class Netns:
    """One namespace (None: the agent's own) and its links, addresses, rules and routes."""

    def __init__(self, name: str | None) -> None:
        self.name = name

    @asynccontextmanager
    async def ipr(self) -> AsyncIterator[AsyncIPRoute]:
        async with iproute(self.name) as ipr:
            yield ipr

    def exec_argv(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv] if self.name else list(argv)

    async def sysctl(self, settings: dict[str, str]) -> None:
        await run(self.exec_argv("sysctl", "-q", "-w", *(f"{k}={v}" for k, v in settings.items())))

    async def nft(self, ruleset: str) -> None:
        await run(self.exec_argv("nft", "-f", "-"), stdin=ruleset)

    # -- links ---------------------------------------------------------------------
    async def index(self, ifname: str) -> int | None:
        async with self.ipr() as ipr:
            found = await ipr.link_lookup(ifname=ifname)
        return found[0] if found else None

    async def ensure_bridge(self, ifname: str) -> bool:
        if await self.index(ifname) is not None:
            return False
        async with self.ipr() as ipr:
            await ipr.link("add", ifname=ifname, kind="bridge", br_stp_state=0)
            await ipr.link("set", index=(await ipr.link_lookup(ifname=ifname))[0], state="up")
        return True

    async def ensure_vxlan(
        self, ifname: str, vni: int, local: IPv4Address | None, peers: Iterable[IPv4Address]
    ) -> bool:
        changed = False
        async with self.ipr() as ipr:
            if not await ipr.link_lookup(ifname=ifname):
                spec: dict[str, Any] = {"vxlan_id": vni, "vxlan_port": 4789, "vxlan_learning": 1}
                if local is not None:
                    spec["vxlan_local"] = str(local)
                await ipr.link("add", ifname=ifname, kind="vxlan", **spec)
                changed = True
            idx = (await ipr.link_lookup(ifname=ifname))[0]
            await ipr.link("set", index=idx, state="up")
            have = {
                m.get("NDA_DST")
                for m in await _all(ipr.fdb("dump", ifindex=idx))
                if m.get("NDA_LLADDR") == "00:00:00:00:00:00"
            }
            for peer in peers:
                if str(peer) not in have:
                    await ipr.fdb("append", ifindex=idx, lladdr="00:00:00:00:00:00", dst=str(peer))
                    changed = True
        return changed

    async def ensure_veth(self, ifname: str, peer: str, peer_ns: str) -> bool:
        """A veth pair `ifname` here, `peer` in `peer_ns`; a half-present pair is rebuilt."""
        other = Netns(peer_ns)
        here, there = await self.index(ifname), await other.index(peer)
        if here is not None and there is not None:
            return False
        if here is not None:
            await self.delete_link(ifname)
        if there is not None:
            await other.delete_link(peer)
        peer_spec: dict[str, Any] = {"ifname": peer, "net_ns_fd": peer_ns}
        async with self.ipr() as ipr:
            await ipr.link("add", ifname=ifname, kind="veth", peer=peer_spec)
        return True

    async def set_link(
        self, ifname: str, master: str | None = None, mac: str | None = None
    ) -> None:
        async with self.ipr() as ipr:
            idx = (await ipr.link_lookup(ifname=ifname))[0]
            link = (await ipr.link("get", index=idx))[0]
            if mac and link.get("address") != mac:
                await ipr.link("set", index=idx, address=mac)
            if master is not None:
                master_idx = (await ipr.link_lookup(ifname=master))[0]
                if link.get("master") != master_idx:
                    await ipr.link("set", index=idx, master=master_idx)
            await ipr.link("set", index=idx, state="up")

    async def delete_link(self, ifname: str) -> bool:
        async with self.ipr() as ipr:
            found = await ipr.link_lookup(ifname=ifname)
            if not found:
                return False
            await ipr.link("del", index=found[0])
        return True

    async def links(self) -> set[str]:
        async with self.ipr() as ipr:
            return {m.get("ifname") for m in await _all(ipr.link("dump"))}

    # -- addresses -------------------------------------------------------------------
    async def ensure_addresses(self, ifname: str, want: Iterable[IPv4Interface]) -> bool:
        wanted, changed = set(want), False
        async with self.ipr() as ipr:
            idx = (await ipr.link_lookup(ifname=ifname))[0]
            have = {
                IPv4Interface(f"{m.get('address')}/{m.get('prefixlen')}")
                for m in await _all(ipr.addr("dump", index=idx, family=2))
            }
            for addr in have - wanted:
                await ipr.addr(
                    "del", index=idx, address=str(addr.ip), prefixlen=addr.network.prefixlen
                )
                changed = True
            for addr in wanted - have:
                await ipr.addr(
                    "add", index=idx, address=str(addr.ip), prefixlen=addr.network.prefixlen
                )
                changed = True
        return changed

    # -- neighbours ------------------------------------------------------------------
    async def ensure_neighbours(self, ifname: str, want: dict[IPv4Address, str]) -> bool:
        """Permanent IPv4 neighbours of `ifname`: exactly `want` (address -> MAC)."""
        changed = False
        async with self.ipr() as ipr:
            idx = (await ipr.link_lookup(ifname=ifname))[0]
            have = {
                IPv4Address(m.get("NDA_DST")): m.get("NDA_LLADDR")
                for m in await _all(ipr.neigh("dump", ifindex=idx, family=2))
                if m.get("state") == NUD_PERMANENT and m.get("NDA_DST")
            }
            for ip in set(have) - set(want):
                await ipr.neigh("del", ifindex=idx, dst=str(ip), family=2)
                changed = True
            for ip, mac in want.items():
                if have.get(ip) != mac:
                    await ipr.neigh(
                        "replace", ifindex=idx, dst=str(ip), lladdr=mac, state=NUD_PERMANENT
                    )
                    changed = True
        return changed

    # -- policy routing ----------------------------------------------------------------
    async def ensure_rules(self, want: dict[int, tuple[IPv4Network, int]], band: range) -> bool:
        """Rules with a priority in `band`: exactly `want` (priority -> (from, table))."""
        changed = False
        async with self.ipr() as ipr:
            have: dict[int, tuple[IPv4Network, int]] = {}
            for m in await _all(ipr.rule("dump", family=2)):
                prio = m.get("priority")
                if prio is None or prio not in band:
                    continue
                src = IPv4Network(f"{m.get('src') or '0.0.0.0'}/{m.get('src_len')}")
                have[prio] = (src, m.get("table"))
            for prio, rule in have.items():
                if want.get(prio) != rule:
                    await ipr.rule("del", family=2, priority=prio)
                    changed = True
            for prio, (src, table) in want.items():
                if have.get(prio) != (src, table):
                    await ipr.rule(
                        "add",
                        family=2,
                        priority=prio,
                        table=table,
                        src=str(src.network_address),
                        src_len=src.prefixlen,
                    )
                    changed = True
        return changed

    async def ensure_routes(
        self, table: int, want: dict[IPv4Network, tuple[IPv4Address | None, str]]
    ) -> bool:
        """Unicast routes of `table`: exactly `want` (destination -> (gateway, device))."""
        changed = False
        async with self.ipr() as ipr:
            names = {m["index"]: m.get("ifname") for m in await _all(ipr.link("dump"))}
            have: dict[IPv4Network, tuple[IPv4Address | None, str]] = {}
            for m in await _all(ipr.route("dump", family=2, table=table)):
                if m.get("table") != table or m.get("type") != 1 or m.get("proto") == 2:
                    continue  # not ours: local/broadcast, or kernel connected routes
                dst = IPv4Network(f"{m.get('dst') or '0.0.0.0'}/{m.get('dst_len')}")
                gw = m.get("gateway")
                have[dst] = (IPv4Address(gw) if gw else None, names.get(m.get("oif"), ""))
            for dst, route in have.items():
                if want.get(dst) != route:
                    await ipr.route("del", table=table, dst=str(dst))
                    changed = True
            for dst, (gw, dev) in want.items():
                if have.get(dst) == (gw, dev):
                    continue
                spec: dict[str, Any] = {"dst": str(dst), "table": table}
                spec["oif"] = (await ipr.link_lookup(ifname=dev))[0]
                if gw is not None:
                    spec["gateway"] = str(gw)
                await ipr.route("add", **spec)
                changed = True
        return changed
