"""Routers (with interfaces and an external gateway) and floating IPs."""

from __future__ import annotations

from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Model, Resource
from schemas.network import FixedIp
from schemas.types import Description, IpAddress, IpPrefix, OptionalName


class RouterStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DOWN = "DOWN"
    BUILD = "BUILD"
    ERROR = "ERROR"


class ExternalGateway(Model):
    network_id: UUID
    enable_snat: bool = True
    external_fixed_ips: tuple[FixedIp, ...] = ()
    port_id: UUID | None = None


class RouterInterface(Model):
    port_id: UUID
    subnet_id: UUID
    ip_address: IpAddress


class Route(Model):
    destination: IpPrefix
    nexthop: IpAddress


class Router(Resource):
    id: UUID
    name: OptionalName = ""
    project_id: UUID
    description: Description = ""
    admin_state_up: bool = True
    status: RouterStatus = RouterStatus.ACTIVE
    external_gateway: ExternalGateway | None = None
    interfaces: tuple[RouterInterface, ...] = ()
    routes: tuple[Route, ...] = Field((), max_length=64)
    distributed: bool = True
    ha: bool = False
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _one_interface_per_subnet(self) -> Self:
        subnets = [interface.subnet_id for interface in self.interfaces]
        if len(subnets) != len(set(subnets)):
            raise ValueError("a router has at most one interface per subnet")
        return self


class FloatingIpStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DOWN = "DOWN"
    ERROR = "ERROR"


class FloatingIp(Resource):
    id: UUID
    project_id: UUID
    floating_network_id: UUID
    floating_ip_address: IpAddress
    port_id: UUID | None = None
    fixed_ip_address: IpAddress | None = None
    router_id: UUID | None = None
    status: FloatingIpStatus = FloatingIpStatus.DOWN
    description: Description = ""
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _association(self) -> Self:
        if self.fixed_ip_address is not None and self.port_id is None:
            raise ValueError("fixed_ip_address needs port_id")
        return self
