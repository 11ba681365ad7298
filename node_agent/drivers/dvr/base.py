"""Distributed virtual routing without OVN: the network namespaces of a host.

A Neutron-style DVR (see docs/dvr.md). Every network is a Linux bridge `brq<net id[:11]>`
per host, joined across hosts by VXLAN. On a compute host a `qrouter-<router>` namespace
routes east-west between the router's subnets and NATs the floating IPs of the local ports;
a `fip-<external network>` namespace joined to the external bridge answers ARP for them. On
the network node an `snat-<router>` namespace SNATs everything else to the router's gateway
address. The driver is told the desired state as plans (per host: only the local floating
IPs); every call is idempotent and changes only what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class NamespaceKind(StrEnum):
    QROUTER = "qrouter"
    FIP = "fip"
    SNAT = "snat"


def namespace_name(kind: NamespaceKind, owner_id: UUID, prefix: str = "") -> str:
    return f"{prefix}{kind.value}-{owner_id}"


def bridge_name(network_id: UUID) -> str:
    """The Linux bridge of a network on every host (guests' taps join it)."""
    return f"brq{str(network_id)[:11]}"


class _Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NetworkWiring(_Plan):
    """A network on this host: its bridge, joined to the other hosts by VXLAN `vni`."""

    network_id: UUID
    vni: int


class RouterInterfacePlan(_Plan):
    """One router interface: the subnet's gateway address (the same on every host), and the
    network node's address on that subnet (`snat_ip`) where non-floating traffic goes."""

    port_id: UUID
    network_id: UUID
    cidr: IPv4Network
    ip: IPv4Address
    snat_ip: IPv4Address | None = None


class GatewayPlan(_Plan):
    """The router's external gateway: the external subnet and its next hop, the router's
    SNAT address, and this host's own address on it (the fip namespace's `fg-` port)."""

    network_id: UUID
    cidr: IPv4Network
    gateway_ip: IPv4Address
    router_ip: IPv4Address
    enable_snat: bool = True
    fip_host_ip: IPv4Address | None = None


class FloatingIpPlan(_Plan):
    floating_ip: IPv4Address
    fixed_ip: IPv4Address


class NeighbourPlan(_Plan):
    """A port on one of the router's subnets: the qrouter knows its MAC and never ARPs."""

    ip: IPv4Address
    mac: str


class RouterPlan(_Plan):
    """A router as one host needs it; `floating_ips` are those of this host's ports,
    `neighbours` every port on the router's subnets (on any host)."""

    router_id: UUID
    interfaces: tuple[RouterInterfacePlan, ...] = ()
    gateway: GatewayPlan | None = None
    floating_ips: tuple[FloatingIpPlan, ...] = ()
    neighbours: tuple[NeighbourPlan, ...] = ()


RepairReport = Callable[[str], None]


class DvrDriver(Protocol):
    async def start(self, on_repair: RepairReport | None = None) -> None:
        """Adopt what exists (namespaces by name, compared with the saved plans) and watch
        kernel events; `on_repair` hears of everything re-created."""

    async def close(self) -> None: ...

    async def ensure_network(self, wiring: NetworkWiring) -> None: ...

    async def delete_network(self, network_id: UUID) -> bool: ...

    async def ensure_qrouter(self, plan: RouterPlan) -> None:
        """The compute side: qrouter namespace, and the fip namespace for local FIPs."""

    async def ensure_snat(self, plan: RouterPlan) -> None:
        """The network node side: the snat namespace."""

    async def delete_router(self, router_id: UUID) -> bool:
        """Remove the router's qrouter and snat namespaces (and an unused fip one)."""

    async def ensure_namespace(self, kind: NamespaceKind, owner_id: UUID) -> str:
        """Create the namespace if missing; returns its name."""

    async def delete_namespace(self, kind: NamespaceKind, owner_id: UUID) -> bool: ...

    async def list_namespaces(self) -> list[str]: ...
