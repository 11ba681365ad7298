"""The Linux side of a VIF, through pyroute2 (blocking: call from a worker thread).

`host_netns` is the namespace of the host's switch (None: the caller's own). Production
hosts run OVS in the root namespace; the private test stacks (scripts/stack/ovn.sh) run
each chassis's OVS in a namespace of its own, so its VIFs must be created there.
A VETH's guest end is renamed `eth0` in the guest namespace, gets the port's MAC, and has
tx checksum offload switched off (on the userspace datapath TCP hangs otherwise).

Namespaces are entered with setns(2) on the calling worker thread only (`entered`), never
with pyroute2's `netns=` sockets or `netns.create`: those fork a child process, and a
child of an asyncio process shares its signal wakeup fd, so stopping the child looks
like a SIGTERM to the agent's event loop (the agent then shuts down). A guest namespace
is made with `ip netns add` (a plain fork+exec).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

from pyroute2 import IPRoute, netns
from pyroute2.ethtool import Ethtool

from node_agent.drivers.vif.base import guest_name

GUEST_IFNAME = "eth0"


NETNS_DIR = "/run/netns"


@contextlib.contextmanager
def entered(namespace: str | None) -> Iterator[None]:
    """This thread inside network namespace `namespace` (None: where it is) until the
    block ends."""
    if namespace is None:
        yield
        return
    saved = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"{NETNS_DIR}/{namespace}", os.O_RDONLY)
        try:
            netns.setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            netns.setns(saved)
    finally:
        os.close(saved)


@contextlib.contextmanager
def ipr(namespace: str | None) -> Iterator[IPRoute]:
    """An rtnetlink socket inside `namespace` (the thread stays there meanwhile)."""
    with entered(namespace), IPRoute() as route:
        yield route


def exists(host_netns: str | None, name: str) -> bool:
    with ipr(host_netns) as route:
        return bool(route.link_lookup(ifname=name))


def ensure_tap(host_netns: str | None, name: str, mtu: int | None = None) -> None:
    """A persistent tap a QEMU guest opens (`<target dev=name managed='no'/>`), up."""
    with ipr(host_netns) as route:
        if not route.link_lookup(ifname=name):
            route.link("add", ifname=name, kind="tuntap", mode="tap", iff_no_pi=True)
        _up(route, name, mtu)


def ensure_veth(
    host_netns: str | None, name: str, guest_netns: str, mac: str, mtu: int | None = None
) -> bool:
    """A veth `name` whose peer is `eth0` (with `mac`) in `guest_netns`, both up; the
    guest namespace is created when missing. True when this call created it."""
    created = guest_netns not in netns.listnetns()
    if created:
        subprocess.run(["ip", "netns", "add", guest_netns], check=True, capture_output=True)
    with ipr(host_netns) as route:
        if not route.link_lookup(ifname=name):
            peer = guest_name(name.removeprefix("tap"))
            route.link("add", ifname=name, kind="veth", peer={"ifname": peer})
            index = route.link_lookup(ifname=peer)[0]
            route.link("set", index=index, net_ns_fd=guest_netns)
        _up(route, name, mtu)
    with ipr(guest_netns) as route:
        if not route.link_lookup(ifname=GUEST_IFNAME):
            peer = guest_name(name.removeprefix("tap"))
            index = route.link_lookup(ifname=peer)[0]
            route.link("set", index=index, ifname=GUEST_IFNAME)
        index = route.link_lookup(ifname=GUEST_IFNAME)[0]
        route.link("set", index=index, address=mac)
        lo = route.link_lookup(ifname="lo")[0]
        route.link("set", index=lo, state="up")
        _up(route, GUEST_IFNAME, mtu)
    _tx_offload_off(guest_netns, GUEST_IFNAME)
    return created


def _up(route: IPRoute, name: str, mtu: int | None) -> None:
    index = route.link_lookup(ifname=name)[0]
    if mtu:
        route.link("set", index=index, mtu=mtu)
    route.link("set", index=index, state="up")


def _tx_offload_off(namespace: str, name: str) -> None:
    """`ethtool -K name tx off` inside `namespace`."""
    with entered(namespace):
        tool = Ethtool()
        try:
            features = tool.get_features(name)
            for key in ("tx-checksum-ip-generic", "tx-checksum-ipv4", "tx-checksum-ipv6"):
                if key in features.features:
                    features.features[key].enable = False
            tool.set_features(name, features)
        finally:
            tool.close()


def delete(host_netns: str | None, name: str) -> bool:
    """Delete link `name` (a veth's peer goes with it); False when it was not there."""
    with ipr(host_netns) as route:
        found = route.link_lookup(ifname=name)
        if not found:
            return False
        route.link("del", index=found[0])
        return True


def delete_netns(name: str) -> None:
    if name in netns.listnetns():
        netns.remove(name)
