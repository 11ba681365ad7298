"""Resource models refuse bad input and normalise what they accept."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas.base import Resource
from schemas.block_device import BlockDeviceMapping
from schemas.catalog import RESOURCES
from schemas.claims import Claim, ResourceRequest
from schemas.compute import Flavor, ImageLocation
from schemas.identity import Token
from schemas.network import Network, Port, Subnet
from schemas.numa import NumaCell, NumaRequest
from schemas.pci import PciAlias, PciDevice, PciRequest, parse_alias_spec
from schemas.placement import Host, HostInventory, HostUsage, NumaCellUsage
from schemas.router import FloatingIp, Router
from schemas.security_group import SecurityGroup, SecurityGroupRule
from schemas.server_group import ServerGroup
from schemas.storage import RbdConnection, Volume
from tests.unit.schemas import samples
from tests.unit.schemas.samples import LATER, NOW, uid

FLAVOR = {"id": uid(1), "name": "f", "vcpus": 1, "memory_mb": 512}
SUBNET = {"id": uid(1), "network_id": uid(2), "project_id": uid(3), "cidr": "10.0.0.0/24"}
PORT = {
    "id": uid(1),
    "network_id": uid(2),
    "project_id": uid(3),
    "mac_address": "fa:16:3e:00:00:01",
}
RULE = {"id": uid(1), "security_group_id": uid(2), "direction": "ingress"}
INVENTORY = {"vcpus": 8, "memory_mb": 8192, "disk_gb": 100}
PF = {"address": "0000:3b:00.0", "vendor_id": "8086", "product_id": "1572", "dev_type": "type-PF"}

BAD: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (Flavor, {**FLAVOR, "vcpus": 0}, "vcpus"),
    (Flavor, {**FLAVOR, "memory_mb": -1}, "memory_mb"),
    (Flavor, {**FLAVOR, "disk_gb": -5}, "disk_gb"),
    (Flavor, {**FLAVOR, "id": "not-a-uuid"}, "id"),
    (Flavor, {**FLAVOR, "colour": "red"}, "colour"),
    (Flavor, {**FLAVOR, "extra_specs": {"hw:cpu_policy": "greedy"}}, "hw:cpu_policy"),
    (Flavor, {**FLAVOR, "extra_specs": {"hw:pci_numa_affinity_policy": "x"}}, "affinity"),
    (Flavor, {**FLAVOR, "extra_specs": {"pci_passthrough:alias": "gpu:0"}}, "alias"),
    (Flavor, {**FLAVOR, "extra_specs": {"trait:HW_X": "maybe"}}, "trait"),
    (Flavor, {**FLAVOR, "extra_specs": {"bad key!": "1"}}, "key"),
    (Subnet, {**SUBNET, "cidr": "10.0.0.1/24"}, "host bits"),
    (Subnet, {**SUBNET, "cidr": "10.0.0.0/33"}, "cidr"),
    (Subnet, {**SUBNET, "cidr": "banana"}, "cidr"),
    (Subnet, {**SUBNET, "cidr": "2001:db8::/64"}, "IPv4"),
    (Subnet, {**SUBNET, "gateway_ip": "10.0.1.1"}, "outside"),
    (Subnet, {**SUBNET, "gateway_ip": "10.0.0.0"}, "network address"),
    (
        Subnet,
        {**SUBNET, "allocation_pools": [{"start": "10.0.0.50", "end": "10.0.0.10"}]},
        "starts after",
    ),
    (
        Subnet,
        {**SUBNET, "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.1.10"}]},
        "outside",
    ),
    (
        Subnet,
        {
            **SUBNET,
            "allocation_pools": [
                {"start": "10.0.0.2", "end": "10.0.0.20"},
                {"start": "10.0.0.20", "end": "10.0.0.30"},
            ],
        },
        "overlap",
    ),
    (
        Subnet,
        {
            **SUBNET,
            "gateway_ip": "10.0.0.5",
            "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.20"}],
        },
        "gateway",
    ),
    (Subnet, {**SUBNET, "dns_nameservers": ["8.8.8.300"]}, "IP address"),
    (Subnet, {**SUBNET, "ipv6_ra_mode": "slaac"}, "ipv6"),
    (
        Network,
        {
            "id": uid(1),
            "project_id": uid(2),
            "network_type": "vlan",
            "physical_network": "p",
            "segmentation_id": 4095,
        },
        "1..4094",
    ),
    (Network, {"id": uid(1), "project_id": uid(2), "network_type": "vlan"}, "physical_network"),
    (Network, {"id": uid(1), "project_id": uid(2), "mtu": 9999}, "mtu"),
    (Port, {**PORT, "mac_address": "fa:16:3e:00:00"}, "MAC"),
    (Port, {**PORT, "mac_address": "01:00:5e:00:00:01"}, "multicast"),
    (Port, {**PORT, "vnic_type": "smartnic-ish"}, "vnic_type"),
    (
        Port,
        {**PORT, "port_security_enabled": False, "security_group_ids": [uid(9)]},
        "port security",
    ),
    (
        Port,
        {
            **PORT,
            "fixed_ips": [
                {"subnet_id": uid(4), "ip_address": "10.0.0.3"},
                {"subnet_id": uid(4), "ip_address": "10.0.0.3"},
            ],
        },
        "duplicate",
    ),
    (Port, {**PORT, "binding_profile": {"pci_slot": "3b:00.0"}}, "PCI address"),
    (
        SecurityGroupRule,
        {**RULE, "protocol": "tcp", "port_range_min": 80, "port_range_max": 22},
        "port range",
    ),
    (
        SecurityGroupRule,
        {**RULE, "protocol": "tcp", "port_range_min": 0, "port_range_max": 22},
        "port range",
    ),
    (SecurityGroupRule, {**RULE, "protocol": "udp", "port_range_min": 53}, "both"),
    (
        SecurityGroupRule,
        {**RULE, "protocol": "tcp", "port_range_min": 1, "port_range_max": 70000},
        "port_range_max",
    ),
    (SecurityGroupRule, {**RULE, "port_range_min": 22, "port_range_max": 22}, "any"),
    (
        SecurityGroupRule,
        {**RULE, "protocol": "gre", "port_range_min": 1, "port_range_max": 2},
        "gre",
    ),
    (SecurityGroupRule, {**RULE, "protocol": "icmp", "port_range_min": 300}, "0-255"),
    (SecurityGroupRule, {**RULE, "protocol": "icmp", "port_range_max": 0}, "type"),
    (SecurityGroupRule, {**RULE, "protocol": "carrier-pigeon"}, "protocol"),
    (SecurityGroupRule, {**RULE, "direction": "sideways"}, "direction"),
    (SecurityGroupRule, {**RULE, "remote_ip_prefix": "::/0"}, "ethertype"),
    (
        SecurityGroupRule,
        {**RULE, "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": uid(5)},
        "mutually exclusive",
    ),
    (
        SecurityGroup,
        {
            "id": uid(2),
            "name": "g",
            "project_id": uid(3),
            "rules": [{**RULE, "security_group_id": uid(7)}],
        },
        "another",
    ),
    (
        Router,
        {
            "id": uid(1),
            "project_id": uid(2),
            "interfaces": [
                {"port_id": uid(3), "subnet_id": uid(4), "ip_address": "10.0.0.1"},
                {"port_id": uid(5), "subnet_id": uid(4), "ip_address": "10.0.0.2"},
            ],
        },
        "one interface",
    ),
    (
        FloatingIp,
        {
            "id": uid(1),
            "project_id": uid(2),
            "floating_network_id": uid(3),
            "floating_ip_address": "203.0.113.1",
            "fixed_ip_address": "10.0.0.3",
        },
        "port_id",
    ),
    (Volume, {"id": uid(1), "project_id": uid(2), "size_gb": 0}, "size_gb"),
    (Volume, {"id": uid(1), "project_id": uid(2), "size_gb": 1, "status": "melting"}, "status"),
    (
        Volume,
        {
            "id": uid(1),
            "project_id": uid(2),
            "size_gb": 1,
            "image_id": uid(3),
            "snapshot_id": uid(4),
        },
        "one source",
    ),
    (RbdConnection, {"pool": "v", "image": "i", "monitors": ["m:6789"]}, "secret"),
    (RbdConnection, {"pool": "v", "image": "i", "monitors": [], "auth_enabled": False}, "monitors"),
    (
        Token,
        {"id": "x" * 32, "user_id": uid(1), "issued_at": LATER, "expires_at": NOW},
        "expires_at",
    ),
    (Token, {"id": "short", "user_id": uid(1), "issued_at": NOW, "expires_at": LATER}, "id"),
    (
        ServerGroup,
        {
            "id": uid(1),
            "name": "g",
            "project_id": uid(2),
            "user_id": uid(3),
            "policy": "affinity",
            "rules": {"max_server_per_host": 2},
        },
        "anti-affinity",
    ),
    (
        ServerGroup,
        {
            "id": uid(1),
            "name": "g",
            "project_id": uid(2),
            "user_id": uid(3),
            "policy": "anti-affinity",
            "rules": {"max_server_per_host": 0},
        },
        "max_server_per_host",
    ),
    (
        ServerGroup,
        {
            "id": uid(1),
            "name": "g",
            "project_id": uid(2),
            "user_id": uid(3),
            "policy": "best-effort",
        },
        "policy",
    ),
    (PciDevice, {**PF, "address": "0000:3b:00"}, "PCI address"),
    (PciDevice, {**PF, "vendor_id": "80866"}, "vendor_id"),
    (PciDevice, {**PF, "dev_type": "type-VF"}, "parent_addr"),
    (PciDevice, {**PF, "parent_addr": "0000:3a:00.0"}, "only a VF"),
    (PciDevice, {**PF, "numa_node": -1}, "numa_node"),
    (PciRequest, {"count": 1}, "needs a vendor_id"),
    (PciRequest, {"count": 0, "vendor_id": "8086"}, "count"),
    (PciRequest, {"product_id": "154c", "dev_type": "type-VF"}, "product_id needs"),
    (PciRequest, {"count": 2, "dev_type": "type-VF", "port_id": uid(1)}, "exactly one"),
    (HostInventory, {**INVENTORY, "vcpus": -1}, "vcpus"),
    (HostInventory, {**INVENTORY, "reserved_memory_mb": 9000}, "reserved_memory_mb"),
    (HostInventory, {**INVENTORY, "cpu_allocation_ratio": 0}, "cpu_allocation_ratio"),
    (HostInventory, {**INVENTORY, "traits": ["lower_case"]}, "traits"),
    (
        HostInventory,
        {**INVENTORY, "numa_cells": [{"id": 0, "cpus": [0, 1]}, {"id": 1, "cpus": [1, 2]}]},
        "shares",
    ),
    (HostInventory, {**INVENTORY, "numa_cells": [{"id": 0}, {"id": 0}]}, "unique"),
    (HostInventory, {**INVENTORY, "pci_devices": [PF, PF]}, "unique"),
    (
        HostInventory,
        {**INVENTORY, "numa_cells": [{"id": 0}], "pci_devices": [{**PF, "numa_node": 3}]},
        "unknown NUMA node",
    ),
    (Host, {"id": uid(1), "name": "cmp1"}, "inventory"),
    (Host, {"id": uid(1), "name": "bad host", "roles": ["network"]}, "name"),
    (
        HostUsage,
        {"numa_cells": [{"cell_id": 0, "memory_mb": 1}, {"cell_id": 0, "memory_mb": 2}]},
        "twice",
    ),
    (
        ResourceRequest,
        {"vcpus": 4, "memory_mb": 1024, "numa": {"cells": [{"cpus": 2, "memory_mb": 1024}]}},
        "vcpus",
    ),
    (ResourceRequest, {"vcpus": -1}, "vcpus"),
    (
        Claim,
        {
            "numa_cells": [
                {"guest_cell": 0, "host_cell": 1, "cpus": 1},
                {"guest_cell": 1, "host_cell": 1, "cpus": 1},
            ]
        },
        "distinct",
    ),
    (BlockDeviceMapping, {"source_type": "volume"}, "uuid"),
    (BlockDeviceMapping, {"source_type": "blank", "uuid": uid(1), "volume_size": 1}, "blank"),
    (
        BlockDeviceMapping,
        {"source_type": "volume", "uuid": uid(1), "destination_type": "local"},
        "local",
    ),
    (ImageLocation, {"kind": "rbd", "pool": "images"}, "pool and image"),
]


@pytest.mark.parametrize(
    ("model", "data", "match"), BAD, ids=[f"{m.__name__}-{i}" for i, (m, _, _) in enumerate(BAD)]
)
def test_bad_input_is_refused(model: type[BaseModel], data: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        model.model_validate(data)


def test_values_are_normalised() -> None:
    port = Port.model_validate(
        {
            **PORT,
            "mac_address": "FA-16-3E-00-00-0A",
            "fixed_ips": [{"subnet_id": uid(4), "ip_address": "2001:DB8:0:0::1"}],
        }
    )
    assert port.mac_address == "fa:16:3e:00:00:0a"
    assert port.fixed_ips[0].ip_address == "2001:db8::1"
    rule = SecurityGroupRule.model_validate(
        {
            **RULE,
            "protocol": "TCP",
            "port_range_min": 22,
            "port_range_max": 22,
            "remote_ip_prefix": "10.1.2.3/8",
        }
    )
    assert rule.protocol == "tcp" and rule.remote_ip_prefix == "10.0.0.0/8"
    assert SecurityGroupRule.model_validate({**RULE, "protocol": "any"}).protocol is None
    assert SecurityGroupRule.model_validate({**RULE, "protocol": "006"}).protocol == "6"
    device = PciDevice.model_validate({**PF, "address": "0000:3B:00.0", "vendor_id": "80EE"})
    assert device.address == "0000:3b:00.0" and device.vendor_id == "80ee"


def test_accepted_edge_values() -> None:
    icmp = SecurityGroupRule.model_validate({**RULE, "protocol": "icmp", "port_range_min": 8})
    assert icmp.port_range_max is None
    subnet = Subnet.model_validate(
        {
            **SUBNET,
            "ip_version": 6,
            "cidr": "2001:db8::/64",
            "gateway_ip": "2001:db8::1",
            "ipv6_ra_mode": "slaac",
        }
    )
    assert subnet.cidr == "2001:db8::/64"
    Network(
        id=uid(1),
        project_id=uid(2),
        network_type="vlan",
        physical_network="p",
        segmentation_id=4094,
    )
    Flavor.model_validate(
        {
            **FLAVOR,
            "extra_specs": {
                "pci_passthrough:alias": "gpu:2,nic",
                "hw:numa_nodes": "2",
                "custom": "x",
            },
        }
    )


def test_usage_is_canonical() -> None:
    usage = HostUsage(
        numa_cells=(
            NumaCellUsage(cell_id=1, memory_mb=5),
            NumaCellUsage(cell_id=0),
            NumaCellUsage(cell_id=0 + 2, memory_mb=1),
        )
    )
    assert [cell.cell_id for cell in usage.numa_cells] == [1, 2]
    assert usage.cell(1) is not None and usage.cell(0) is None


def test_numa_split_and_alias_parsing() -> None:
    request = NumaRequest.split(8, 4096, 2)
    assert [cell.cpus for cell in request.cells] == [4, 4]
    assert request.vcpus == 8 and request.memory_mb == 4096
    with pytest.raises(ValueError, match="evenly"):
        NumaRequest.split(3, 4096, 2)
    gpu = PciAlias(name="gpu", vendor_id="10de", product_id="1db4", numa_policy="required")
    requests = parse_alias_spec("gpu:2, gpu", {"gpu": gpu})
    assert [r.count for r in requests] == [2, 1]
    assert requests[0].numa_policy == "required" and requests[0].alias_name == "gpu"
    with pytest.raises(ValueError, match="unknown PCI alias"):
        parse_alias_spec("fpga:1", {"gpu": gpu})


def test_pci_request_for_port() -> None:
    direct = PciRequest.for_port(uid(1), "direct", "physnet1")
    assert direct.dev_type == "type-VF" and direct.physical_network == "physnet1"
    assert PciRequest.for_port(uid(1), "direct-physical", "physnet1").dev_type == "type-PF"
    with pytest.raises(ValueError, match="normal"):
        PciRequest.for_port(uid(1), "normal", "physnet1")


def test_numa_cells_are_sets() -> None:
    cell = NumaCell(id=0, cpus=[3, 1, 1])
    assert cell.cpus == frozenset({1, 3})


def test_catalog_lists_every_resource() -> None:
    def walk(cls: type[Resource]) -> set[type[Resource]]:
        found: set[type[Resource]] = set()
        for sub in cls.__subclasses__():
            found |= {sub} | walk(sub)
        return found

    defined = {c for c in walk(Resource) if c.__module__.startswith("schemas.")}
    assert defined == set(RESOURCES)


@pytest.mark.parametrize(
    "resource",
    [
        samples.INSTANCE,
        samples.PORT,
        samples.SUBNET,
        samples.VOLUME,
        samples.HOST,
        samples.SECURITY_GROUP,
        samples.ROUTER,
        samples.FLOATING_IP,
        samples.FLAVOR,
    ],
)
def test_resources_round_trip(resource: BaseModel) -> None:
    assert type(resource).model_validate(resource.model_dump(mode="json")) == resource
