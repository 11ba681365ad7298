"""Security groups and their rules (Neutron semantics)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, field_validator, model_validator

from schemas.base import Resource
from schemas.types import Description, IpPrefix, Name, ip_version


class Direction(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


class EtherType(StrEnum):
    IPV4 = "IPv4"
    IPV6 = "IPv6"


PROTOCOL_NAMES: dict[str, int] = {
    "icmp": 1,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "sctp": 132,
    "ipv6-icmp": 58,
    "vrrp": 112,
}
_PORTED = {"tcp", "udp", "sctp", "6", "17", "132"}
_ICMP = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}
PortNumber = Annotated[int, Field(ge=0, le=65535)]


class SecurityGroupRule(Resource):
    """One rule. `protocol` is a name (tcp, udp, icmp, ...), a number 0-255, or None for any.

    For tcp/udp/sctp the port range is 1-65535 with min <= max; for icmp, port_range_min is
    the ICMP type and port_range_max the code (0-255 each); other protocols take no range.
    """

    id: UUID
    security_group_id: UUID
    project_id: UUID | None = None
    direction: Direction
    ethertype: EtherType = EtherType.IPV4
    protocol: str | None = None
    port_range_min: PortNumber | None = None
    port_range_max: PortNumber | None = None
    remote_ip_prefix: IpPrefix | None = None
    remote_group_id: UUID | None = None
    description: Description = ""
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: int = Field(1, ge=0)

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: str | None) -> str | None:
        if value is None or value.lower() in ("any", ""):
            return None
        name = value.lower()
        if name in PROTOCOL_NAMES:
            return name
        if name.isdigit() and 0 <= int(name) <= 255:
            return str(int(name))
        raise ValueError(f"unknown protocol {value!r}")

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        low, high, proto = self.port_range_min, self.port_range_max, self.protocol
        if self.remote_ip_prefix is not None and self.remote_group_id is not None:
            raise ValueError("remote_ip_prefix and remote_group_id are mutually exclusive")
        if self.remote_ip_prefix is not None:
            wanted = 6 if self.ethertype is EtherType.IPV6 else 4
            if ip_version(self.remote_ip_prefix) != wanted:
                raise ValueError(f"remote_ip_prefix does not match ethertype {self.ethertype}")
        if low is None and high is None:
            return self
        if proto in _PORTED:
            if low is None or high is None:
                raise ValueError("a port range needs both port_range_min and port_range_max")
            if low < 1 or low > high:
                raise ValueError(f"invalid port range {low}-{high}")
        elif proto in _ICMP:
            if (low is not None and low > 255) or (high is not None and high > 255):
                raise ValueError("icmp type and code must be 0-255")
            if low is None:
                raise ValueError("an icmp code needs an icmp type (port_range_min)")
        else:
            raise ValueError(f"protocol {proto or 'any'} does not take a port range")
        return self


class SecurityGroup(Resource):
    id: UUID
    name: Name
    project_id: UUID
    description: Description = ""
    stateful: bool = True
    rules: tuple[SecurityGroupRule, ...] = ()
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision_number: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _own_rules(self) -> Self:
        for rule in self.rules:
            if rule.security_group_id != self.id:
                raise ValueError(f"rule {rule.id} belongs to another security group")
        return self
