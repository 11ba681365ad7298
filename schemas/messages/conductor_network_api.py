"""Conductor RPC for the gateway's Network v2.0 API (a Neutron subset): networks,
subnets, ports, security groups and rules, routers, floating IPs and quotas.

Method names carry a `net_` prefix: the conductor's older network calls
(`create_network`, `list_networks`, ... in conductor_networks) keep theirs. Show and
delete calls take a `NetRef`. An update names the attributes it changes in `fields`,
so "set to null" (a subnet's gateway, a floating IP's port) differs from "leave alone".
A `project_id` on a create is the project an admin creates the resource for.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Message, Model
from schemas.network import AllocationPool, HostRoute, Network, Port, Subnet, VnicType
from schemas.router import FloatingIp, Router
from schemas.security_group import Direction, EtherType, SecurityGroup, SecurityGroupRule
from schemas.types import Cidr, Description, IpAddress, IpPrefix, MacAddress, OptionalName

Fields = tuple[str, ...]


class NetRef(Message):
    """One resource by id (show and delete calls of every resource type)."""

    message_name = "conductor.net_ref"
    message_version = 1

    id: UUID


# ----------------------------------------------------------------------------- networks


class NetListNetworks(Message):
    message_name = "conductor.net_list_networks"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    name: str | None = None
    external: bool | None = None
    shared: bool | None = None
    project_id: UUID | None = None
    status: str | None = None


class NetCreateNetwork(Message):
    message_name = "conductor.net_create_network"
    message_version = 1

    name: OptionalName = ""
    description: Description = ""
    admin_state_up: bool = True
    shared: bool = False
    external: bool = False
    port_security_enabled: bool = True
    mtu: int = Field(1442, ge=68, le=9216)
    project_id: UUID | None = None


class NetUpdateNetwork(Message):
    message_name = "conductor.net_update_network"
    message_version = 1

    id: UUID
    fields: Fields
    name: OptionalName = ""
    description: Description = ""
    admin_state_up: bool = True
    shared: bool = False
    external: bool = False
    port_security_enabled: bool = True


class NetNetwork(Message):
    message_name = "conductor.net_network.reply"
    message_version = 1

    network: Network


class NetNetworks(Message):
    message_name = "conductor.net_networks.reply"
    message_version = 1

    networks: tuple[Network, ...] = ()


# ------------------------------------------------------------------------------ subnets


class NetListSubnets(Message):
    message_name = "conductor.net_list_subnets"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    network_id: UUID | None = None
    name: str | None = None
    cidr: str | None = None
    ip_version: int | None = None
    project_id: UUID | None = None


class NetCreateSubnet(Message):
    """`gateway`: "auto" picks the first host address, "none" gives no gateway,
    "given" takes `gateway_ip`."""

    message_name = "conductor.net_create_subnet"
    message_version = 1

    network_id: UUID
    cidr: Cidr
    ip_version: Literal[4, 6] = 4
    name: OptionalName = ""
    description: Description = ""
    gateway: Literal["auto", "none", "given"] = "auto"
    gateway_ip: IpAddress | None = None
    allocation_pools: tuple[AllocationPool, ...] = ()
    enable_dhcp: bool = True
    dns_nameservers: tuple[IpAddress, ...] = ()
    host_routes: tuple[HostRoute, ...] = ()
    project_id: UUID | None = None


class NetUpdateSubnet(Message):
    message_name = "conductor.net_update_subnet"
    message_version = 1

    id: UUID
    fields: Fields
    name: OptionalName = ""
    description: Description = ""
    gateway_ip: IpAddress | None = None
    allocation_pools: tuple[AllocationPool, ...] = ()
    enable_dhcp: bool = True
    dns_nameservers: tuple[IpAddress, ...] = ()
    host_routes: tuple[HostRoute, ...] = ()


class NetSubnet(Message):
    message_name = "conductor.net_subnet.reply"
    message_version = 1

    subnet: Subnet


class NetSubnets(Message):
    message_name = "conductor.net_subnets.reply"
    message_version = 1

    subnets: tuple[Subnet, ...] = ()


# -------------------------------------------------------------------------------- ports


class FixedIpRequest(Model):
    """A fixed IP asked for: a subnet (any free address of it), an address, or both."""

    subnet_id: UUID | None = None
    ip_address: IpAddress | None = None


class NetListPorts(Message):
    message_name = "conductor.net_list_ports"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    network_id: UUID | None = None
    device_id: str | None = None
    device_owner: str | None = None
    mac_address: str | None = None
    name: str | None = None
    status: str | None = None
    ip_address: str | None = None
    subnet_id: UUID | None = None
    project_id: UUID | None = None


class NetCreatePort(Message):
    """`fixed_ips` None: one address from the first subnet with a free one; ()
    none at all. `security_groups` None: the project's default group."""

    message_name = "conductor.net_create_port"
    message_version = 1

    network_id: UUID
    name: OptionalName = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MacAddress | None = None
    fixed_ips: tuple[FixedIpRequest, ...] | None = None
    security_groups: tuple[UUID, ...] | None = None
    port_security_enabled: bool | None = None
    vnic_type: VnicType = VnicType.NORMAL
    binding_host: str | None = Field(None, max_length=255)
    device_id: str = Field("", max_length=255)
    device_owner: str = Field("", max_length=255)
    project_id: UUID | None = None


class NetUpdatePort(Message):
    message_name = "conductor.net_update_port"
    message_version = 1

    id: UUID
    fields: Fields
    name: OptionalName = ""
    description: Description = ""
    admin_state_up: bool = True
    fixed_ips: tuple[FixedIpRequest, ...] = ()
    security_groups: tuple[UUID, ...] = ()
    port_security_enabled: bool = True
    binding_host: str | None = Field(None, max_length=255)
    vnic_type: VnicType = VnicType.NORMAL
    device_id: str = Field("", max_length=255)
    device_owner: str = Field("", max_length=255)


class NetPort(Message):
    message_name = "conductor.net_port.reply"
    message_version = 1

    port: Port


class NetPorts(Message):
    message_name = "conductor.net_ports.reply"
    message_version = 1

    ports: tuple[Port, ...] = ()


# ---------------------------------------------------------------------- security groups


class NetListSecurityGroups(Message):
    message_name = "conductor.net_list_security_groups"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    name: str | None = None
    project_id: UUID | None = None


class NetCreateSecurityGroup(Message):
    message_name = "conductor.net_create_security_group"
    message_version = 1

    name: OptionalName = ""
    description: Description = ""
    stateful: bool = True
    project_id: UUID | None = None


class NetUpdateSecurityGroup(Message):
    message_name = "conductor.net_update_security_group"
    message_version = 1

    id: UUID
    fields: Fields
    name: OptionalName = ""
    description: Description = ""


class NetSecurityGroup(Message):
    message_name = "conductor.net_security_group.reply"
    message_version = 1

    security_group: SecurityGroup


class NetSecurityGroups(Message):
    message_name = "conductor.net_security_groups.reply"
    message_version = 1

    security_groups: tuple[SecurityGroup, ...] = ()


class NetListRules(Message):
    message_name = "conductor.net_list_security_group_rules"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    security_group_id: UUID | None = None
    direction: Direction | None = None
    ethertype: EtherType | None = None
    protocol: str | None = None
    project_id: UUID | None = None


class NetCreateRule(Message):
    message_name = "conductor.net_create_security_group_rule"
    message_version = 1

    security_group_id: UUID
    direction: Direction
    ethertype: EtherType = EtherType.IPV4
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: IpPrefix | None = None
    remote_group_id: UUID | None = None
    description: Description = ""


class NetRule(Message):
    message_name = "conductor.net_security_group_rule.reply"
    message_version = 1

    rule: SecurityGroupRule


class NetRules(Message):
    message_name = "conductor.net_security_group_rules.reply"
    message_version = 1

    rules: tuple[SecurityGroupRule, ...] = ()


# ------------------------------------------------------------------------------ routers


class GatewayRequest(Model):
    network_id: UUID
    enable_snat: bool = True
    external_fixed_ips: tuple[FixedIpRequest, ...] = ()


class NetListRouters(Message):
    message_name = "conductor.net_list_routers"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    name: str | None = None
    project_id: UUID | None = None


class NetCreateRouter(Message):
    message_name = "conductor.net_create_router"
    message_version = 1

    name: OptionalName = ""
    description: Description = ""
    admin_state_up: bool = True
    external_gateway: GatewayRequest | None = None
    project_id: UUID | None = None


class NetUpdateRouter(Message):
    """`external_gateway` None in `fields` clears the gateway."""

    message_name = "conductor.net_update_router"
    message_version = 1

    id: UUID
    fields: Fields
    name: OptionalName = ""
    description: Description = ""
    admin_state_up: bool = True
    external_gateway: GatewayRequest | None = None


class NetRouterInterface(Message):
    """Add or remove a router interface, by subnet or by port."""

    message_name = "conductor.net_router_interface"
    message_version = 1

    router_id: UUID
    subnet_id: UUID | None = None
    port_id: UUID | None = None


class NetRouterInterfaceReply(Message):
    message_name = "conductor.net_router_interface.reply"
    message_version = 1

    router_id: UUID
    project_id: UUID
    network_id: UUID
    subnet_id: UUID
    port_id: UUID


class NetRouter(Message):
    message_name = "conductor.net_router.reply"
    message_version = 1

    router: Router


class NetRouters(Message):
    message_name = "conductor.net_routers.reply"
    message_version = 1

    routers: tuple[Router, ...] = ()


# ------------------------------------------------------------------------- floating IPs


class NetListFloatingIps(Message):
    message_name = "conductor.net_list_floating_ips"
    message_version = 1

    ids: tuple[UUID, ...] = ()
    floating_ip_address: str | None = None
    floating_network_id: UUID | None = None
    port_id: UUID | None = None
    router_id: UUID | None = None
    status: str | None = None
    project_id: UUID | None = None


class NetCreateFloatingIp(Message):
    message_name = "conductor.net_create_floating_ip"
    message_version = 1

    floating_network_id: UUID
    floating_ip_address: IpAddress | None = None
    port_id: UUID | None = None
    fixed_ip_address: IpAddress | None = None
    description: Description = ""
    project_id: UUID | None = None


class NetUpdateFloatingIp(Message):
    """`port_id` None in `fields` disassociates."""

    message_name = "conductor.net_update_floating_ip"
    message_version = 1

    id: UUID
    fields: Fields
    port_id: UUID | None = None
    fixed_ip_address: IpAddress | None = None
    description: Description = ""


class NetFloatingIp(Message):
    message_name = "conductor.net_floating_ip.reply"
    message_version = 1

    floating_ip: FloatingIp


class NetFloatingIps(Message):
    message_name = "conductor.net_floating_ips.reply"
    message_version = 1

    floating_ips: tuple[FloatingIp, ...] = ()


# ------------------------------------------------------------------------------- quotas


class QuotaDetail(Model):
    limit: int
    used: int
    reserved: int


class NetShowQuota(Message):
    message_name = "conductor.net_show_quota"
    message_version = 1

    project_id: UUID


class NetUpdateQuota(Message):
    """Limits by Neutron resource name (network, port, ...); -1 is unlimited."""

    message_name = "conductor.net_update_quota"
    message_version = 1

    project_id: UUID
    limits: dict[str, int]


class NetQuota(Message):
    message_name = "conductor.net_quota.reply"
    message_version = 1

    project_id: UUID
    details: dict[str, QuotaDetail]
