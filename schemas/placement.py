"""Hosts, what they offer (inventory) and what is taken of it (usage)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, Field, field_validator, model_validator

from schemas.base import Model, Resource
from schemas.numa import NumaCell, check_cells
from schemas.pci import PciDevice
from schemas.types import Generation, HostName, NonNegInt, PciAddress, Ratio, Trait


class HostRole(StrEnum):
    COMPUTE = "compute"
    NETWORK = "network"
    STORAGE = "storage"


class HostState(StrEnum):
    UP = "up"
    DOWN = "down"


class HostInventory(Model):
    """What a compute host offers, as its agent reports it.

    Capacity of vcpus, memory_mb and disk_gb is (total - reserved) x allocation ratio;
    `vcpus` is the shared pool (Nova's VCPU), while the CPUs listed in the NUMA cells are
    those dedicated (pinned) guests may take (Nova's PCPU, cpu_dedicated_set).
    """

    vcpus: NonNegInt
    memory_mb: NonNegInt
    disk_gb: NonNegInt
    cpu_allocation_ratio: Ratio = 4.0
    ram_allocation_ratio: Ratio = 1.0
    disk_allocation_ratio: Ratio = 1.0
    reserved_vcpus: NonNegInt = 0
    reserved_memory_mb: NonNegInt = 0
    reserved_disk_gb: NonNegInt = 0
    numa_cells: tuple[NumaCell, ...] = ()
    pci_devices: tuple[PciDevice, ...] = ()
    traits: frozenset[Trait] = frozenset()
    hypervisor_type: str = "QEMU"
    cpu_model: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in ("vcpus", "memory_mb", "disk_gb"):
            if getattr(self, f"reserved_{name}") > getattr(self, name):
                raise ValueError(f"reserved_{name} exceeds {name}")
        check_cells(self.numa_cells)
        addresses = [device.address for device in self.pci_devices]
        if len(addresses) != len(set(addresses)):
            raise ValueError("PCI device addresses must be unique")
        cell_ids = {cell.id for cell in self.numa_cells}
        for device in self.pci_devices:
            if cell_ids and device.numa_node is not None and device.numa_node not in cell_ids:
                raise ValueError(
                    f"PCI device {device.address} is on unknown NUMA node {device.numa_node}"
                )
        return self


class Host(Resource):
    """A host running a node agent. `generation` grows with every change to its
    allocations; a plan that saw an older generation is re-checked or refused."""

    id: UUID
    name: HostName
    roles: frozenset[HostRole] = frozenset({HostRole.COMPUTE})
    availability_zone: str = Field("nova", min_length=1, max_length=255)
    aggregates: frozenset[str] = frozenset()
    state: HostState = HostState.UP
    disabled: bool = False
    disabled_reason: str | None = Field(None, max_length=255)
    generation: Generation = 0
    inventory: HostInventory | None = None
    agent_version: str | None = None
    last_heartbeat_at: AwareDatetime | None = None
    created_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _compute_has_inventory(self) -> Self:
        if HostRole.COMPUTE in self.roles and self.inventory is None:
            raise ValueError("a compute host needs an inventory")
        return self


class NumaCellUsage(Model):
    cell_id: NonNegInt
    pinned_cpus: frozenset[NonNegInt] = frozenset()
    memory_mb: NonNegInt = 0


class HostUsage(Model):
    """The sum of a host's allocations. Cells with nothing taken are left out, so two
    usages taking the same resources compare equal."""

    vcpus: NonNegInt = 0
    memory_mb: NonNegInt = 0
    disk_gb: NonNegInt = 0
    pci_devices: frozenset[PciAddress] = frozenset()
    numa_cells: tuple[NumaCellUsage, ...] = ()
    instances: NonNegInt = 0

    @field_validator("numa_cells")
    @classmethod
    def _canonical(cls, cells: tuple[NumaCellUsage, ...]) -> tuple[NumaCellUsage, ...]:
        kept = [cell for cell in cells if cell.pinned_cpus or cell.memory_mb]
        ids = [cell.cell_id for cell in kept]
        if len(ids) != len(set(ids)):
            raise ValueError("NUMA cell usage listed twice for one cell")
        return tuple(sorted(kept, key=lambda cell: cell.cell_id))

    def cell(self, cell_id: int) -> NumaCellUsage | None:
        for cell in self.numa_cells:
            if cell.cell_id == cell_id:
                return cell
        return None


EMPTY_USAGE = HostUsage()
