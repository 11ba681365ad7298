"""Constrained field types shared by every domain module.

Each type validates and normalises (lower-case MACs, compressed IP addresses,
canonical CIDRs), so two equal values always compare and hash equal.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
OptionalName = Annotated[str, StringConstraints(max_length=255, strip_whitespace=True)]
Description = Annotated[str, StringConstraints(max_length=65535)]
HostName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]
Trait = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,254}$")]
"""A placement trait such as HW_CPU_X86_AVX2 or CUSTOM_GPU."""

NonNegInt = Annotated[int, Field(ge=0)]
PositiveInt = Annotated[int, Field(ge=1)]
Ratio = Annotated[float, Field(gt=0.0, le=1000.0)]
Generation = Annotated[int, Field(ge=0)]
Seq = Annotated[int, Field(ge=0)]
Percent = Annotated[int, Field(ge=0, le=100)]

MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]
MetadataValue = Annotated[str, StringConstraints(max_length=255)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=128)]

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_PCI = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")


def _mac(value: str) -> str:
    mac = value.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise ValueError(f"not a MAC address: {value!r}")
    if int(mac[:2], 16) & 1:
        raise ValueError(f"multicast MAC address refused: {value!r}")
    return mac


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise ValueError(f"not an IP address: {value!r}") from exc


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError as exc:
        raise ValueError(f"not a network CIDR (host bits must be zero): {value!r}") from exc


def _prefix(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise ValueError(f"not an IP prefix: {value!r}") from exc


def _pci(value: str) -> str:
    address = value.strip().lower()
    if not _PCI.match(address):
        raise ValueError(f"not a PCI address (dddd:bb:ss.f): {value!r}")
    return address


MacAddress = Annotated[str, AfterValidator(_mac)]
IpAddress = Annotated[str, AfterValidator(_ip)]
Cidr = Annotated[str, AfterValidator(_cidr)]
"""A network in CIDR notation, host bits zero (10.0.0.0/24, 2001:db8::/64)."""
IpPrefix = Annotated[str, AfterValidator(_prefix)]
"""An IP prefix; host bits are cleared (10.0.0.7/24 becomes 10.0.0.0/24), as Neutron does."""
PciAddress = Annotated[str, AfterValidator(_pci)]
"""A PCI address in domain:bus:slot.function form, lower-case (0000:3b:00.1)."""
PciId = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{4}$", to_lower=True)]
"""A 4-digit hex PCI vendor or product id (8086, 154c)."""


def ip_version(address: str) -> int:
    """4 or 6 for an address or network string."""
    return 6 if ":" in address else 4
