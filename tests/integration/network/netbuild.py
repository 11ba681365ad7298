"""Requests for the network driver, as the conductor would send them, with test defaults."""

from __future__ import annotations

import ipaddress
from uuid import UUID, uuid4

from schemas.messages.agent_network import (
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
)
from schemas.network import FixedIp, Network, NetworkType, Port, Subnet
from schemas.router import ExternalGateway, FloatingIp, Router, RouterInterface
from schemas.security_group import Direction, SecurityGroup, SecurityGroupRule

PROJECT = UUID(int=7)


def network(
    cidr: str, *, external: bool = False, physnet: str | None = None, dhcp: bool = True
) -> EnsureNetwork:
    net_id = uuid4()
    gateway = str(next(ipaddress.ip_network(cidr).hosts()))
    subnet = Subnet(
        id=uuid4(),
        network_id=net_id,
        project_id=PROJECT,
        cidr=cidr,
        gateway_ip=gateway,
        enable_dhcp=dhcp,
    )
    net = Network(
        id=net_id,
        name=f"net-{cidr}",
        project_id=PROJECT,
        external=external,
        network_type=NetworkType.FLAT if physnet else NetworkType.GENEVE,
        physical_network=physnet,
        subnet_ids=(subnet.id,),
    )
    return EnsureNetwork(network=net, subnets=(subnet,))


def mac_for(ip: str) -> str:
    last = [int(x) for x in ip.split(".")]
    return "fa:16:3e:{:02x}:{:02x}:{:02x}".format(*last[1:])


def port(
    net: EnsureNetwork,
    ip: str,
    chassis: str | None,
    *,
    groups: tuple[UUID, ...] = (),
    security: bool = True,
) -> EnsurePort:
    subnet = net.subnets[0]
    model = Port(
        id=uuid4(),
        network_id=net.network.id,
        project_id=PROJECT,
        mac_address=mac_for(ip),
        fixed_ips=(FixedIp(subnet_id=subnet.id, ip_address=ip),),
        security_group_ids=groups,
        port_security_enabled=security,
        device_owner="compute:nova",
        binding_host=chassis,
    )
    return EnsurePort(port=model, requested_chassis=chassis)


def rule(
    group: UUID,
    direction: Direction,
    protocol: str | None = None,
    ports: tuple[int, int] | None = None,
    remote_group: UUID | None = None,
) -> SecurityGroupRule:
    return SecurityGroupRule(
        id=uuid4(),
        security_group_id=group,
        direction=direction,
        protocol=protocol,
        port_range_min=ports[0] if ports else None,
        port_range_max=ports[1] if ports else None,
        remote_group_id=remote_group,
    )


def security_group(group: UUID, *rules: SecurityGroupRule) -> EnsureSecurityGroup:
    return EnsureSecurityGroup(
        security_group=SecurityGroup(
            id=group, name=f"sg-{group.hex[:6]}", project_id=PROJECT, rules=rules
        )
    )


def router(
    internal: list[EnsureNetwork], external: EnsureNetwork | None, gateway_ip: str | None
) -> EnsureRouter:
    interfaces = tuple(
        RouterInterface(
            port_id=uuid4(), subnet_id=n.subnets[0].id, ip_address=n.subnets[0].gateway_ip or ""
        )
        for n in internal
    )
    gateway = None
    if external is not None and gateway_ip is not None:
        gateway = ExternalGateway(
            network_id=external.network.id,
            external_fixed_ips=(FixedIp(subnet_id=external.subnets[0].id, ip_address=gateway_ip),),
            port_id=uuid4(),
        )
    model = Router(
        id=uuid4(), name="r1", project_id=PROJECT, interfaces=interfaces, external_gateway=gateway
    )
    return EnsureRouter(router=model, subnets=tuple(n.subnets[0] for n in internal))


def floating_ip(
    external: EnsureNetwork,
    address: str,
    target: EnsurePort,
    router_id: UUID,
    distributed: bool = True,
) -> EnsureFloatingIp:
    fip = FloatingIp(
        id=uuid4(),
        project_id=PROJECT,
        floating_network_id=external.network.id,
        floating_ip_address=address,
        port_id=target.port.id,
        fixed_ip_address=target.port.fixed_ips[0].ip_address,
        router_id=router_id,
    )
    mac = target.port.mac_address if distributed else None
    return EnsureFloatingIp(floating_ip=fip, external_mac=mac)
