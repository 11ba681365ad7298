"""Node agent RPC, network role: OVN northbound objects (switches, ports, ACLs, routers, NAT).

Routed as `node_agent.network.<method>` (any network agent). Every command is idempotent:
`ensure_*` creates or updates to exactly the given state, `delete_*` succeeds when absent.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Message, Model
from schemas.network import Network, Port, Subnet
from schemas.router import FloatingIp, Router
from schemas.security_group import SecurityGroup
from schemas.types import HostName, MacAddress


class EnsureNetwork(Message):
    """A logical switch with DHCP options for the subnets that enable DHCP."""

    message_name = "node_agent.network.ensure_network"
    message_version = 1

    network: Network
    subnets: tuple[Subnet, ...] = ()


class DeleteNetwork(Message):
    message_name = "node_agent.network.delete_network"
    message_version = 1

    network_id: UUID


class EnsurePort(Message):
    """A logical switch port; `requested_chassis` binds it to the host chosen for it."""

    message_name = "node_agent.network.ensure_port"
    message_version = 1

    port: Port
    requested_chassis: HostName | None = None


class DeletePort(Message):
    message_name = "node_agent.network.delete_port"
    message_version = 1

    port_id: UUID
    network_id: UUID


class EnsureSecurityGroup(Message):
    """A port group with one ACL per rule (allow 1002; the default drop group at 1001)."""

    message_name = "node_agent.network.ensure_security_group"
    message_version = 1

    security_group: SecurityGroup


class DeleteSecurityGroup(Message):
    message_name = "node_agent.network.delete_security_group"
    message_version = 1

    security_group_id: UUID


class EnsureRouter(Message):
    """A logical router with its interfaces, routes, gateway and default SNAT."""

    message_name = "node_agent.network.ensure_router"
    message_version = 1

    router: Router
    subnets: tuple[Subnet, ...] = ()


class DeleteRouter(Message):
    message_name = "node_agent.network.delete_router"
    message_version = 1

    router_id: UUID


class EnsureFloatingIp(Message):
    """A dnat_and_snat NAT row; with `external_mac` (the port is up) it is distributed to
    the VM's chassis, otherwise centralised on the gateway chassis."""

    message_name = "node_agent.network.ensure_floating_ip"
    message_version = 1

    floating_ip: FloatingIp
    external_mac: MacAddress | None = None


class DeleteFloatingIp(Message):
    message_name = "node_agent.network.delete_floating_ip"
    message_version = 1

    floating_ip_id: UUID
    router_id: UUID | None = None


class SyncNetwork(Message):
    """What the database says the network role should hold: the agent repairs OVN to match
    (missing rows created, drifted rows updated, orphans carrying skymesh ids removed)."""

    message_name = "node_agent.network.sync"
    message_version = 1

    networks: tuple[EnsureNetwork, ...] = ()
    security_groups: tuple[EnsureSecurityGroup, ...] = ()
    ports: tuple[EnsurePort, ...] = ()
    routers: tuple[EnsureRouter, ...] = ()
    floating_ips: tuple[EnsureFloatingIp, ...] = ()


class Drift(Model):
    """One repair: `kind` network, security_group, port, router, floating_ip or
    dhcp_options; `action` created, updated or removed (or failed, with `reason`)."""

    kind: Literal["network", "security_group", "port", "router", "floating_ip", "dhcp_options"]
    action: Literal["created", "updated", "removed", "failed"]
    resource_id: str = Field(min_length=1, max_length=255)
    reason: str = Field("", max_length=2048)


class SyncNetworkReply(Message):
    message_name = "node_agent.network.sync.reply"
    message_version = 1

    drift: tuple[Drift, ...] = ()

    def count(self, kind: str, action: str) -> int:
        return sum(1 for d in self.drift if d.kind == kind and d.action == action)
