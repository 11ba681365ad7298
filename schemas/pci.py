"""PCI passthrough and SR-IOV: devices (PFs, VFs, plain PCI), aliases and requests."""

from __future__ import annotations

from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Model, Resource
from schemas.network import VnicType
from schemas.types import NonNegInt, PciAddress, PciId, PositiveInt


class PciDeviceType(StrEnum):
    PCI = "type-PCI"  # a device without SR-IOV, passed through whole
    PF = "type-PF"  # an SR-IOV physical function, passed through whole (direct-physical)
    VF = "type-VF"  # an SR-IOV virtual function (direct, macvtap)


class PciDeviceStatus(StrEnum):
    """As the agent sees the device; claims in HostUsage are tracked separately."""

    AVAILABLE = "available"
    CLAIMED = "claimed"
    ALLOCATED = "allocated"
    UNAVAILABLE = "unavailable"
    UNCLAIMABLE = "unclaimable"


class PciNumaAffinity(StrEnum):
    """hw:pci_numa_affinity_policy: how a device must relate to the guest's NUMA cells."""

    REQUIRED = "required"  # on one of the guest's host cells
    PREFERRED = "preferred"  # on one of them if possible, else anywhere
    LEGACY = "legacy"  # on one of them if the device reports a NUMA node, else anywhere
    SOCKET = "socket"  # on the same socket as one of the guest's host cells


class PciDevice(Resource):
    """One device of a host. A VF names its PF in `parent_addr`."""

    address: PciAddress
    vendor_id: PciId
    product_id: PciId
    dev_type: PciDeviceType = PciDeviceType.PCI
    parent_addr: PciAddress | None = None
    physical_network: str | None = Field(None, min_length=1, max_length=64)
    numa_node: NonNegInt | None = None
    status: PciDeviceStatus = PciDeviceStatus.AVAILABLE
    label: str | None = Field(None, max_length=255)
    instance_id: UUID | None = None

    @model_validator(mode="after")
    def _parent(self) -> Self:
        if self.dev_type is PciDeviceType.VF and self.parent_addr is None:
            raise ValueError("a VF needs parent_addr (its PF)")
        if self.dev_type is not PciDeviceType.VF and self.parent_addr is not None:
            raise ValueError("only a VF has a parent_addr")
        if self.parent_addr == self.address:
            raise ValueError("a device cannot be its own parent")
        return self


class PciAlias(Model):
    """An operator-defined name for a kind of device (Nova's [pci] alias)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.]+$")
    vendor_id: PciId
    product_id: PciId | None = None
    device_type: PciDeviceType | None = None
    numa_policy: PciNumaAffinity = PciNumaAffinity.LEGACY


class PciRequest(Model):
    """`count` devices matching every selector that is set (None matches anything)."""

    count: PositiveInt = 1
    vendor_id: PciId | None = None
    product_id: PciId | None = None
    dev_type: PciDeviceType | None = None
    physical_network: str | None = None
    numa_policy: PciNumaAffinity = PciNumaAffinity.LEGACY
    alias_name: str | None = None
    port_id: UUID | None = None

    @model_validator(mode="after")
    def _selective(self) -> Self:
        if self.vendor_id is None and self.physical_network is None and self.dev_type is None:
            raise ValueError("a PCI request needs a vendor_id, physical_network or dev_type")
        if self.product_id is not None and self.vendor_id is None:
            raise ValueError("product_id needs vendor_id")
        if self.port_id is not None and self.count != 1:
            raise ValueError("a port asks for exactly one device")
        return self

    @classmethod
    def for_alias(cls, alias: PciAlias, count: int = 1) -> PciRequest:
        return cls(
            count=count,
            vendor_id=alias.vendor_id,
            product_id=alias.product_id,
            dev_type=alias.device_type,
            numa_policy=alias.numa_policy,
            alias_name=alias.name,
        )

    @classmethod
    def for_port(
        cls,
        port_id: UUID,
        vnic_type: VnicType | str,
        physical_network: str,
        numa_policy: PciNumaAffinity = PciNumaAffinity.LEGACY,
    ) -> PciRequest:
        """A VF for direct/macvtap ports, a whole PF for direct-physical ports."""
        vnic_type = VnicType(vnic_type)
        if vnic_type is VnicType.NORMAL:
            raise ValueError("a normal port needs no PCI device")
        dev_type = PciDeviceType.PF if vnic_type is VnicType.DIRECT_PHYSICAL else PciDeviceType.VF
        return cls(
            count=1,
            dev_type=dev_type,
            physical_network=physical_network,
            numa_policy=numa_policy,
            port_id=port_id,
        )

    def matches(self, device: PciDevice) -> bool:
        """Whether `device` is of the requested kind (free or not)."""
        return (
            (self.vendor_id is None or device.vendor_id == self.vendor_id)
            and (self.product_id is None or device.product_id == self.product_id)
            and (self.dev_type is None or device.dev_type is self.dev_type)
            and (self.physical_network is None or device.physical_network == self.physical_network)
        )

    def describe(self) -> str:
        parts = [f"{self.count} x"]
        if self.alias_name:
            parts.append(f"alias {self.alias_name}")
        if self.vendor_id:
            parts.append(f"{self.vendor_id}:{self.product_id or '*'}")
        if self.dev_type:
            parts.append(str(self.dev_type))
        if self.physical_network:
            parts.append(f"on {self.physical_network}")
        if self.port_id:
            parts.append(f"for port {self.port_id}")
        return " ".join(parts)


def parse_alias_spec(spec: str, aliases: dict[str, PciAlias]) -> tuple[PciRequest, ...]:
    """Turn a `pci_passthrough:alias` extra spec ("gpu:2,nic") into requests."""
    requests = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        alias = aliases.get(name)
        if alias is None:
            raise ValueError(f"unknown PCI alias {name!r}")
        requests.append(PciRequest.for_alias(alias, int(count) if count else 1))
    return tuple(requests)
