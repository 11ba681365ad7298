"""From the Neutron objects the network agent is told about to the plans of each host.

`DvrModel` holds networks, subnets, ports (with the host they are bound to), routers and
floating IPs. `host_plan(router, host)` is the router as that compute host needs it (the
floating IPs of its own ports); `snat_plan(router)` the network node's part;
`router_hosts(router)` the compute hosts that have ports on the router's subnets.

Addresses the control plane does not allocate (yet) are derived: the snat address on an
internal subnet is its last host address (keep it out of the allocation pools); each
host's fip-namespace address comes from that host's own options (DvrOptions.fip_hosts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from uuid import UUID

from node_agent.drivers.dvr.base import (
    FloatingIpPlan,
    GatewayPlan,
    NeighbourPlan,
    NetworkWiring,
    RouterInterfacePlan,
    RouterPlan,
)
from schemas.network import Network, Port, Subnet
from schemas.router import FloatingIp, Router

VNI_SPACE = 2**24 - 2


def vni_of(network: Network) -> int:
    """The segmentation id of a VXLAN network, otherwise one derived from its id."""
    if network.segmentation_id:
        return network.segmentation_id
    return network.id.int % VNI_SPACE + 1


def snat_address(cidr: IPv4Network) -> IPv4Address:
    return cidr.broadcast_address - 1


@dataclass
class DvrModel:
    networks: dict[UUID, Network] = field(default_factory=dict)
    subnets: dict[UUID, Subnet] = field(default_factory=dict)
    ports: dict[UUID, Port] = field(default_factory=dict)
    hosts: dict[UUID, str] = field(default_factory=dict)  # port -> the host it is bound to
    routers: dict[UUID, Router] = field(default_factory=dict)
    floating_ips: dict[UUID, FloatingIp] = field(default_factory=dict)

    def wiring(self, network_id: UUID) -> NetworkWiring | None:
        network = self.networks.get(network_id)
        return NetworkWiring(network_id=network_id, vni=vni_of(network)) if network else None

    def _cidr(self, subnet_id: UUID) -> IPv4Network | None:
        subnet = self.subnets.get(subnet_id)
        if subnet is None:
            return None
        net = ip_network(subnet.cidr)
        return net if isinstance(net, IPv4Network) else None

    def interfaces(self, router: Router) -> tuple[RouterInterfacePlan, ...]:
        found = []
        for iface in router.interfaces:
            cidr, subnet = self._cidr(iface.subnet_id), self.subnets.get(iface.subnet_id)
            if cidr is None or subnet is None:
                continue  # IPv6 or not known yet
            found.append(
                RouterInterfacePlan(
                    port_id=iface.port_id,
                    network_id=subnet.network_id,
                    cidr=cidr,
                    ip=IPv4Address(iface.ip_address),
                    snat_ip=snat_address(cidr),
                )
            )
        return tuple(found)

    def gateway(self, router: Router) -> GatewayPlan | None:
        ext = router.external_gateway
        if ext is None:
            return None
        for fixed in ext.external_fixed_ips:
            cidr, subnet = self._cidr(fixed.subnet_id), self.subnets.get(fixed.subnet_id)
            if cidr is None or subnet is None or subnet.gateway_ip is None:
                continue
            return GatewayPlan(
                network_id=ext.network_id,
                cidr=cidr,
                gateway_ip=IPv4Address(subnet.gateway_ip),
                router_ip=IPv4Address(fixed.ip_address),
                enable_snat=ext.enable_snat,
            )
        return None

    def router_hosts(self, router: Router) -> set[str]:
        subnets = {iface.subnet_id for iface in router.interfaces}
        return {
            host
            for port_id, host in self.hosts.items()
            if (port := self.ports.get(port_id)) is not None
            and any(f.subnet_id in subnets for f in port.fixed_ips)
        }

    def host_plan(self, router: Router, host: str) -> RouterPlan:
        fips = tuple(
            FloatingIpPlan(
                floating_ip=IPv4Address(fip.floating_ip_address),
                fixed_ip=IPv4Address(fip.fixed_ip_address),
            )
            for fip in self.floating_ips.values()
            if fip.router_id == router.id
            and fip.port_id is not None
            and fip.fixed_ip_address is not None
            and self.hosts.get(fip.port_id) == host
            and ip_address(fip.floating_ip_address).version == 4
        )
        return RouterPlan(
            router_id=router.id,
            interfaces=self.interfaces(router),
            gateway=self.gateway(router),
            floating_ips=tuple(sorted(fips, key=lambda f: f.floating_ip)),
            neighbours=self.neighbours(router),
        )

    def neighbours(self, router: Router) -> tuple[NeighbourPlan, ...]:
        """Every IPv4 port on the router's subnets but its own interfaces."""
        subnets = {i.subnet_id for i in router.interfaces}
        own = {str(i.ip_address) for i in router.interfaces}
        found = {
            NeighbourPlan(ip=IPv4Address(f.ip_address), mac=port.mac_address)
            for port in self.ports.values()
            for f in port.fixed_ips
            if f.subnet_id in subnets
            and ip_address(f.ip_address).version == 4
            and str(f.ip_address) not in own
        }
        return tuple(sorted(found, key=lambda n: n.ip))

    def snat_plan(self, router: Router) -> RouterPlan:
        return RouterPlan(
            router_id=router.id, interfaces=self.interfaces(router), gateway=self.gateway(router)
        )
