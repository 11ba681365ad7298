"""IP address and MAC address choice for ports, pure and synchronous.

A subnet hands out the addresses of its allocation pools, or, without pools, every host
address of its CIDR except the gateway (Neutron's default pool: for IPv4 the network and
broadcast addresses are never given). The query module locks the subnet and passes the
addresses already in use, so the choice here needs no locking of its own.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network

MAC_PREFIX = (0xFA, 0x16, 0x3E)  # Neutron's base_mac


class AddressError(ValueError):
    """A requested address does not belong to the subnet or may not be given out."""


def _ranges(net: Net, pools: Sequence[Mapping[str, Any]]) -> list[range]:
    if pools:
        bounds = [
            (int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"])))
            for p in pools
        ]
        return [range(start, end + 1) for start, end in sorted(bounds)]
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.num_addresses > 2:
        first, last = first + 1, last - 1  # network and broadcast addresses
    elif net.version == 6 and net.num_addresses > 1:
        first += 1  # the subnet-router anycast address
    return [range(first, last + 1)]


def candidates(
    cidr: str, gateway: str | None, pools: Sequence[Mapping[str, Any]] = ()
) -> Iterator[Address]:
    """Every address the subnet may hand out, lowest first (lazily: a /64 is huge)."""
    net = ipaddress.ip_network(cidr, strict=False)
    gw = ipaddress.ip_address(gateway) if gateway else None
    for block in _ranges(net, pools):
        for value in block:
            address = ipaddress.ip_address(value)
            if address != gw:
                yield address


def first_free(
    cidr: str,
    gateway: str | None,
    pools: Sequence[Mapping[str, Any]],
    used: Iterable[str | Address],
) -> Address | None:
    """The lowest address of the pools that is not in `used`; None when all are taken."""
    taken = {ipaddress.ip_address(str(u).split("/")[0]) for u in used}
    return next((a for a in candidates(cidr, gateway, pools) if a not in taken), None)


def check_requested(cidr: str, gateway: str | None, requested: str) -> Address:
    """A fixed IP asked for by the user: inside the CIDR, not the gateway, and for IPv4
    neither the network nor the broadcast address (Neutron allows it outside the pools)."""
    net = ipaddress.ip_network(cidr, strict=False)
    address = ipaddress.ip_address(requested)
    if address.version != net.version or address not in net:
        raise AddressError(f"{address} is not in subnet {net}")
    if gateway and address == ipaddress.ip_address(gateway):
        raise AddressError(f"{address} is the gateway of subnet {net}")
    edges = (net.network_address, net.broadcast_address)
    if net.version == 4 and net.num_addresses > 2 and address in edges:
        raise AddressError(f"{address} is the network or broadcast address of {net}")
    return address


def random_mac(rng: random.Random | None = None) -> str:
    """A locally administered unicast MAC with Neutron's fa:16:3e prefix."""
    pick = rng or random.SystemRandom()
    octets = [*MAC_PREFIX, *(pick.randrange(256) for _ in range(3))]
    return ":".join(f"{o:02x}" for o in octets)
