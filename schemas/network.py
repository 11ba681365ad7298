"""Networking (Neutron-like): networks, subnets and ports."""

from __future__ import annotations

import ipaddress
import itertools
from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Model, Resource
from schemas.types import (
    Cidr,
    Description,
    HostName,
    IpAddress,
    IpPrefix,
    MacAddress,
    OptionalName,
    PciAddress,
    ip_version,
)


class NetworkType(StrEnum):
    FLAT = "flat"
    VLAN = "vlan"
    VXLAN = "vxlan"
    GENEVE = "geneve"
    LOCAL = "local"


class NetworkStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DOWN = "DOWN"
    BUILD = "BUILD"
    ERROR = "ERROR"


_SEGMENT_RANGE = {
    NetworkType.VLAN: (1, 4094),
    NetworkType.VXLAN: (1, 2**24 - 1),
    NetworkType.GENEVE: (1, 2**24 - 1),
}


class Network(Resource):
    id: UUID
    name: OptionalName = ""
    project_id: UUID
    description: Description = ""
    admin_state_up: bool = True
    status: NetworkStatus = NetworkStatus.ACTIVE
    shared: bool = False
    external: bool = False
    mtu: Annotated[int, Field(ge=68, le=9216)] = 1442
    network_type: NetworkType = NetworkType.GENEVE
    physical_network: str | None = Field(None, min_length=1, max_length=64)
    segmentation_id: int | None = None
    port_security_enabled: bool = True
    subnet_ids: tuple[UUID, ...] = ()
    availability_zone_hints: tuple[str, ...] = ()
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: Annotated[int, Field(ge=0)] = 1

    @model_validator(mode="after")
    def _segment(self) -> Self:
        kind, seg = self.network_type, self.segmentation_id
        if kind in (NetworkType.FLAT, NetworkType.VLAN) and not self.physical_network:
            raise ValueError(f"a {kind} network needs a physical_network")
        bounds = _SEGMENT_RANGE.get(kind)
        if bounds is None and seg is not None:
            raise ValueError(f"a {kind} network has no segmentation_id")
        if bounds is not None and seg is not None and not bounds[0] <= seg <= bounds[1]:
            raise ValueError(f"{kind} segmentation_id must be in {bounds[0]}..{bounds[1]}")
        return self


class AllocationPool(Model):
    start: IpAddress
    end: IpAddress


class HostRoute(Model):
    destination: IpPrefix
    nexthop: IpAddress


class Ipv6Mode(StrEnum):
    SLAAC = "slaac"
    DHCPV6_STATEFUL = "dhcpv6-stateful"
    DHCPV6_STATELESS = "dhcpv6-stateless"


class Subnet(Resource):
    id: UUID
    network_id: UUID
    project_id: UUID
    name: OptionalName = ""
    description: Description = ""
    ip_version: Annotated[int, Field(ge=4, le=6)] = 4
    cidr: Cidr
    gateway_ip: IpAddress | None = None
    allocation_pools: tuple[AllocationPool, ...] = ()
    dns_nameservers: tuple[IpAddress, ...] = Field((), max_length=5)
    host_routes: tuple[HostRoute, ...] = Field((), max_length=20)
    enable_dhcp: bool = True
    ipv6_ra_mode: Ipv6Mode | None = None
    ipv6_address_mode: Ipv6Mode | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: Annotated[int, Field(ge=0)] = 1

    @model_validator(mode="after")
    def _addresses(self) -> Self:
        if self.ip_version not in (4, 6):
            raise ValueError("ip_version must be 4 or 6")
        net = ipaddress.ip_network(self.cidr)
        if net.version != self.ip_version:
            raise ValueError(f"cidr {self.cidr} is not IPv{self.ip_version}")
        if self.gateway_ip is not None:
            gateway = ipaddress.ip_address(self.gateway_ip)
            if gateway not in net:
                raise ValueError(f"gateway_ip {gateway} is outside {net}")
            if net.num_addresses > 1 and gateway == net.network_address:
                raise ValueError("gateway_ip cannot be the network address")
        self._check_pools(net)
        if self.ip_version == 4 and (self.ipv6_ra_mode or self.ipv6_address_mode):
            raise ValueError("ipv6 modes are only valid on IPv6 subnets")
        return self

    def _check_pools(self, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
        ranges = []
        for pool in self.allocation_pools:
            start, end = ipaddress.ip_address(pool.start), ipaddress.ip_address(pool.end)
            if start not in net or end not in net:
                raise ValueError(f"allocation pool {start}-{end} is outside {net}")
            if int(start) > int(end):
                raise ValueError(f"allocation pool {start}-{end} starts after its end")
            if self.gateway_ip and int(start) <= int(ipaddress.ip_address(self.gateway_ip)) <= int(
                end
            ):
                raise ValueError(f"allocation pool {start}-{end} contains the gateway")
            ranges.append((int(start), int(end)))
        ranges.sort()
        for (_, end_a), (start_b, _) in itertools.pairwise(ranges):
            if start_b <= end_a:
                raise ValueError("allocation pools overlap")


class VnicType(StrEnum):
    NORMAL = "normal"
    DIRECT = "direct"
    DIRECT_PHYSICAL = "direct-physical"
    MACVTAP = "macvtap"


class PortStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DOWN = "DOWN"
    BUILD = "BUILD"
    ERROR = "ERROR"


class VifType(StrEnum):
    UNBOUND = "unbound"
    BINDING_FAILED = "binding_failed"
    OVS = "ovs"
    HW_VEB = "hw_veb"
    HOSTDEV_PHYSICAL = "hostdev_physical"


class FixedIp(Model):
    subnet_id: UUID
    ip_address: IpAddress


class AddressPair(Model):
    ip_address: IpPrefix
    mac_address: MacAddress | None = None


class BindingProfile(Model):
    """binding:profile; for SR-IOV ports the conductor fills in the claimed device."""

    pci_slot: PciAddress | None = None
    pci_vendor_info: str | None = Field(None, pattern=r"^[0-9a-f]{4}:[0-9a-f]{4}$")
    physical_network: str | None = None
    capabilities: tuple[str, ...] = ()


class Port(Resource):
    id: UUID
    network_id: UUID
    project_id: UUID
    name: OptionalName = ""
    description: Description = ""
    mac_address: MacAddress
    fixed_ips: tuple[FixedIp, ...] = ()
    admin_state_up: bool = True
    status: PortStatus = PortStatus.DOWN
    vnic_type: VnicType = VnicType.NORMAL
    binding_host: HostName | None = None
    binding_profile: BindingProfile = Field(default_factory=BindingProfile)
    vif_type: VifType = VifType.UNBOUND
    device_id: str = Field("", max_length=255)
    device_owner: str = Field("", max_length=255)
    security_group_ids: tuple[UUID, ...] = ()
    port_security_enabled: bool = True
    allowed_address_pairs: tuple[AddressPair, ...] = ()
    mtu: int | None = Field(None, ge=68, le=9216)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: Annotated[int, Field(ge=0)] = 1

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.port_security_enabled and self.security_group_ids:
            raise ValueError("a port without port security cannot have security groups")
        seen = set()
        for fixed in self.fixed_ips:
            if fixed.ip_address in seen:
                raise ValueError(f"duplicate fixed ip {fixed.ip_address}")
            seen.add(fixed.ip_address)
        return self

    def ip_versions(self) -> set[int]:
        return {ip_version(fixed.ip_address) for fixed in self.fixed_ips}


DEVICE_OWNER_COMPUTE = "compute:"
DEVICE_OWNER_ROUTER_INTERFACE = "network:router_interface"
DEVICE_OWNER_ROUTER_GATEWAY = "network:router_gateway"
DEVICE_OWNER_FLOATING_IP = "network:floatingip"
DEVICE_OWNER_DHCP = "network:dhcp"
