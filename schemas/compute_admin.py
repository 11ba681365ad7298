"""What the compute catalog and operator APIs show: key pairs, quota sets, compute
services and hypervisors (a compute host seen two ways), aggregates and availability
zones. The gateway renders them in Nova's shapes; flavors and server groups have their
own modules (schemas.compute, schemas.server_group)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.base import Resource
from schemas.types import HostName, Metadata, Name, NonNegInt, PositiveInt

KeyPairName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 _.@-]{1,255}$")]
ZoneName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^:]+$")]


class KeyPairType(StrEnum):
    SSH = "ssh"
    X509 = "x509"


class KeyPair(Resource):
    """A user's public key; the private half is never stored."""

    name: KeyPairName
    user_id: UUID
    type: KeyPairType = KeyPairType.SSH
    public_key: str = Field(min_length=1, max_length=16384)
    fingerprint: str = Field(min_length=1, max_length=255)
    created_at: AwareDatetime | None = None


class QuotaSet(Resource):
    """A project's limit per resource (-1: unlimited), what it uses and holds reserved."""

    project_id: UUID
    limits: dict[str, Annotated[int, Field(ge=-1)]] = Field(default_factory=dict)
    in_use: dict[str, NonNegInt] = Field(default_factory=dict)
    reserved: dict[str, NonNegInt] = Field(default_factory=dict)


class ComputeService(Resource):
    """A compute host as Nova's `nova-compute` service (`number` is the integer id shown
    before microversion 2.53)."""

    id: UUID
    number: PositiveInt
    host: HostName
    binary: str = "nova-compute"
    zone: str = "nova"
    enabled: bool = True
    disabled_reason: str | None = Field(None, max_length=255)
    forced_down: bool = False
    is_up: bool = True
    updated_at: AwareDatetime | None = None


class HypervisorServer(Resource):
    id: UUID
    name: Name


class Hypervisor(Resource):
    """A compute host's capacity and what its servers take of it."""

    service: ComputeService
    hypervisor_type: str = "QEMU"
    hypervisor_version: int | None = None
    host_ip: str | None = None
    cpu_model: str | None = None
    vcpus: NonNegInt = 0
    vcpus_used: NonNegInt = 0
    memory_mb: NonNegInt = 0
    memory_mb_used: NonNegInt = 0
    local_gb: NonNegInt = 0
    local_gb_used: NonNegInt = 0
    running_vms: NonNegInt = 0
    current_workload: NonNegInt = 0  # servers on it with a task under way
    servers: tuple[HypervisorServer, ...] = ()


class Aggregate(Resource):
    """A host aggregate; `metadata.availability_zone` makes its hosts an availability
    zone (`number` is Nova's integer id, `id` its uuid)."""

    id: UUID
    number: PositiveInt
    name: Name
    availability_zone: str | None = None
    hosts: tuple[HostName, ...] = ()
    metadata: Metadata = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class AvailabilityZone(Resource):
    """A zone and the compute services in it; available when one of them is enabled."""

    name: ZoneName
    available: bool
    services: tuple[ComputeService, ...] = ()
