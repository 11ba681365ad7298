"""Samples of the network area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from uuid import UUID

from schemas.base import Message
from schemas.messages import agent_network as an
from schemas.messages import conductor_network_api as na
from schemas.network import AllocationPool, FixedIp, Network, Port, Subnet
from schemas.router import ExternalGateway, FloatingIp, Router, RouterInterface
from schemas.security_group import Direction, SecurityGroup, SecurityGroupRule

PROJECT = UUID(int=2)
NETWORK = Network(id=UUID(int=30), name="net", project_id=PROJECT, subnet_ids=(UUID(int=31),))
SUBNET = Subnet(
    id=UUID(int=31),
    network_id=NETWORK.id,
    project_id=PROJECT,
    cidr="10.1.0.0/24",
    gateway_ip="10.1.0.1",
    allocation_pools=(AllocationPool(start="10.1.0.2", end="10.1.0.254"),),
)
PORT = Port(
    id=UUID(int=32),
    network_id=NETWORK.id,
    project_id=PROJECT,
    mac_address="fa:16:3e:00:00:01",
    fixed_ips=(FixedIp(subnet_id=SUBNET.id, ip_address="10.1.0.2"),),
    security_group_ids=(UUID(int=33),),
)
RULE = SecurityGroupRule(
    id=UUID(int=34), security_group_id=UUID(int=33), direction=Direction.EGRESS
)
GROUP = SecurityGroup(id=UUID(int=33), name="default", project_id=PROJECT, rules=(RULE,))
ROUTER = Router(
    id=UUID(int=35),
    project_id=PROJECT,
    external_gateway=ExternalGateway(network_id=UUID(int=36)),
    interfaces=(RouterInterface(port_id=UUID(int=37), subnet_id=SUBNET.id, ip_address="10.1.0.1"),),
)
FLOATING_IP = FloatingIp(
    id=UUID(int=38),
    project_id=PROJECT,
    floating_network_id=UUID(int=36),
    floating_ip_address="172.24.4.10",
    port_id=PORT.id,
    fixed_ip_address="10.1.0.2",
    router_id=ROUTER.id,
)


def messages() -> list[Message]:
    return [
        na.NetRef(id=NETWORK.id),
        na.NetListNetworks(name="net", external=False),
        na.NetCreateNetwork(name="net", project_id=PROJECT),
        na.NetUpdateNetwork(id=NETWORK.id, fields=("name",), name="renamed"),
        na.NetNetwork(network=NETWORK),
        na.NetNetworks(networks=(NETWORK,)),
        na.NetListSubnets(network_id=NETWORK.id),
        na.NetCreateSubnet(network_id=NETWORK.id, cidr="10.1.0.0/24", gateway="none"),
        na.NetUpdateSubnet(id=SUBNET.id, fields=("gateway_ip",), gateway_ip=None),
        na.NetSubnet(subnet=SUBNET),
        na.NetSubnets(subnets=(SUBNET,)),
        na.NetListPorts(device_id="server-1", ip_address="10.1.0.2"),
        na.NetCreatePort(
            network_id=NETWORK.id,
            fixed_ips=(na.FixedIpRequest(subnet_id=SUBNET.id, ip_address="10.1.0.9"),),
            binding_host="compute-1",
        ),
        na.NetUpdatePort(id=PORT.id, fields=("security_groups",), security_groups=()),
        na.NetPort(port=PORT),
        na.NetPorts(ports=(PORT,)),
        na.NetListSecurityGroups(name="default"),
        na.NetCreateSecurityGroup(name="web"),
        na.NetUpdateSecurityGroup(id=GROUP.id, fields=("description",), description="d"),
        na.NetSecurityGroup(security_group=GROUP),
        na.NetSecurityGroups(security_groups=(GROUP,)),
        na.NetListRules(security_group_id=GROUP.id),
        na.NetCreateRule(
            security_group_id=GROUP.id,
            direction=Direction.INGRESS,
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
        ),
        na.NetRule(rule=RULE),
        na.NetRules(rules=(RULE,)),
        na.NetListRouters(name="r1"),
        na.NetCreateRouter(name="r1", external_gateway=na.GatewayRequest(network_id=UUID(int=36))),
        na.NetUpdateRouter(id=ROUTER.id, fields=("external_gateway",)),
        na.NetRouterInterface(router_id=ROUTER.id, subnet_id=SUBNET.id),
        na.NetRouterInterfaceReply(
            router_id=ROUTER.id,
            project_id=PROJECT,
            network_id=NETWORK.id,
            subnet_id=SUBNET.id,
            port_id=UUID(int=37),
        ),
        na.NetRouter(router=ROUTER),
        na.NetRouters(routers=(ROUTER,)),
        na.NetListFloatingIps(floating_ip_address="172.24.4.10"),
        na.NetCreateFloatingIp(floating_network_id=UUID(int=36), port_id=PORT.id),
        na.NetUpdateFloatingIp(id=FLOATING_IP.id, fields=("port_id",)),
        na.NetFloatingIp(floating_ip=FLOATING_IP),
        na.NetFloatingIps(floating_ips=(FLOATING_IP,)),
        na.NetShowQuota(project_id=PROJECT),
        na.NetUpdateQuota(project_id=PROJECT, limits={"port": 10}),
        na.NetQuota(
            project_id=PROJECT, details={"port": na.QuotaDetail(limit=10, used=1, reserved=0)}
        ),
        an.SyncNetwork(
            networks=(an.EnsureNetwork(network=NETWORK, subnets=(SUBNET,)),),
            security_groups=(an.EnsureSecurityGroup(security_group=GROUP),),
            ports=(an.EnsurePort(port=PORT, requested_chassis="cmp1"),),
            routers=(an.EnsureRouter(router=ROUTER, subnets=(SUBNET,)),),
            floating_ips=(
                an.EnsureFloatingIp(floating_ip=FLOATING_IP, external_mac="fa:16:3e:00:00:01"),
            ),
        ),
        an.SyncNetworkReply(
            drift=(
                an.Drift(kind="port", action="created", resource_id=str(PORT.id)),
                an.Drift(kind="network", action="failed", resource_id="x", reason="boom"),
            )
        ),
    ]
