"""The explicit list of resource models shown in docs and exported as JSON Schema."""

from __future__ import annotations

from schemas.base import Resource
from schemas.claims import Allocation
from schemas.compute import Flavor, Image
from schemas.compute_admin import (
    Aggregate,
    AvailabilityZone,
    ComputeService,
    Hypervisor,
    HypervisorServer,
    KeyPair,
    QuotaSet,
)
from schemas.identity import Project, Role, RoleAssignment, Token, User
from schemas.instance import Instance, InstanceAction
from schemas.network import Network, Port, Subnet
from schemas.pci import PciDevice
from schemas.placement import Host
from schemas.router import FloatingIp, Router
from schemas.security_group import SecurityGroup, SecurityGroupRule
from schemas.server_group import ServerGroup
from schemas.storage import Volume, VolumeAttachment, VolumeSnapshot

RESOURCES: tuple[type[Resource], ...] = (
    Project,
    User,
    Role,
    RoleAssignment,
    Token,
    Flavor,
    Image,
    Instance,
    InstanceAction,
    ServerGroup,
    Host,
    PciDevice,
    Allocation,
    Network,
    Subnet,
    Port,
    SecurityGroup,
    SecurityGroupRule,
    Router,
    FloatingIp,
    Volume,
    VolumeAttachment,
    VolumeSnapshot,
    KeyPair,
    QuotaSet,
    ComputeService,
    Hypervisor,
    HypervisorServer,
    Aggregate,
    AvailabilityZone,
)


def resource_models() -> dict[str, type[Resource]]:
    """Resource models by class name, sorted."""
    return {model.__name__: model for model in sorted(RESOURCES, key=lambda m: m.__name__)}
