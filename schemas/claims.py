"""What an instance asks of a host (ResourceRequest) and what it takes (Claim, Allocation)."""

from __future__ import annotations

from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, model_validator

from schemas.base import Model, Resource
from schemas.numa import CpuPolicy, NumaRequest
from schemas.pci import PciDeviceType, PciRequest
from schemas.types import NonNegInt, PciAddress, PciId


class ResourceRequest(Model):
    """The resources of one instance: amounts, PCI devices and an optional NUMA topology.

    With a dedicated CPU policy the vCPUs are pinned host CPUs taken from the NUMA cells,
    not from the shared vcpus pool (as Nova's PCPU versus VCPU).
    """

    vcpus: NonNegInt = 0
    memory_mb: NonNegInt = 0
    disk_gb: NonNegInt = 0
    pci: tuple[PciRequest, ...] = ()
    numa: NumaRequest | None = None

    @model_validator(mode="after")
    def _numa_totals(self) -> Self:
        if self.numa is not None:
            if self.numa.vcpus != self.vcpus:
                raise ValueError(
                    f"NUMA cells hold {self.numa.vcpus} vcpus, the request {self.vcpus}"
                )
            if self.numa.memory_mb != self.memory_mb:
                raise ValueError(
                    f"NUMA cells hold {self.numa.memory_mb} MB, the request {self.memory_mb} MB"
                )
        return self

    @property
    def dedicated(self) -> bool:
        return self.numa is not None and self.numa.cpu_policy is CpuPolicy.DEDICATED

    @property
    def shared_vcpus(self) -> int:
        """The vCPUs taken from the shared pool (0 when every vCPU is pinned)."""
        return 0 if self.dedicated else self.vcpus


class PciClaim(Model):
    """One device taken, and which request (index into ResourceRequest.pci) it serves."""

    address: PciAddress
    vendor_id: PciId
    product_id: PciId
    dev_type: PciDeviceType
    parent_addr: PciAddress | None = None
    physical_network: str | None = None
    numa_node: NonNegInt | None = None
    request_index: NonNegInt = 0
    port_id: UUID | None = None


class NumaCellClaim(Model):
    """Guest cell `guest_cell` placed on host cell `host_cell`."""

    guest_cell: NonNegInt
    host_cell: NonNegInt
    cpus: NonNegInt
    pinned_cpus: frozenset[NonNegInt] = frozenset()
    memory_mb: NonNegInt = 0


class Claim(Model):
    """Exactly what one instance takes of one host."""

    vcpus: NonNegInt = 0
    memory_mb: NonNegInt = 0
    disk_gb: NonNegInt = 0
    pci_devices: tuple[PciClaim, ...] = ()
    numa_cells: tuple[NumaCellClaim, ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        addresses = [device.address for device in self.pci_devices]
        if len(addresses) != len(set(addresses)):
            raise ValueError("a claim takes each PCI device once")
        cells = [cell.host_cell for cell in self.numa_cells]
        if len(cells) != len(set(cells)):
            raise ValueError("guest NUMA cells must be on distinct host cells")
        return self

    @property
    def pci_addresses(self) -> frozenset[str]:
        return frozenset(device.address for device in self.pci_devices)


class Allocation(Resource):
    """A claim written for a consumer (an instance) on a host."""

    consumer_id: UUID
    host_id: UUID
    claim: Claim
    created_at: AwareDatetime | None = None
