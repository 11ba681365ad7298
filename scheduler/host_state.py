"""What the scheduler knows of one host: the host as the conductor reported it, the usage
it plans against (the reported usage plus the claims of this request so far), and the
host's scheduling facts (aggregate metadata, hypervisor version, work in flight).

`inventory` is the effective one: the host's inventory with the ratios and reserved
amounts its aggregates set (`schemas.aggregate_fit`). The free NUMA cells, the PCI pool
and the host index row are derived once per state, since a state is replaced, never
changed, by a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from uuid import UUID

from schemas.aggregate_fit import effective_inventory
from schemas.claims import Claim
from schemas.fit import add_claim
from schemas.fit_numa import FreeCell, free_cells
from schemas.fit_pci import PciPool
from schemas.messages.conductor_hosts import HostSnapshot
from schemas.pci_fit import PciFree
from schemas.placement import Host, HostInventory, HostUsage
from schemas.scheduling import NO_FACTS, HostFacts

_NO_INVENTORY = HostInventory(vcpus=0, memory_mb=0, disk_gb=0)
_ARCH_TRAIT = "HW_ARCH_"


@dataclass(frozen=True, slots=True)
class HostState:
    host: Host
    usage: HostUsage
    facts: HostFacts = NO_FACTS
    inventory: HostInventory = field(init=False, compare=False)
    _cells: list[FreeCell] | None = field(init=False, default=None, compare=False, repr=False)
    _pool: PciPool | None = field(init=False, default=None, compare=False, repr=False)
    _free: PciFree | None = field(init=False, default=None, compare=False, repr=False)
    row: tuple[int, ...] | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        base = self.host.inventory or _NO_INVENTORY
        object.__setattr__(
            self, "inventory", effective_inventory(base, self.facts.aggregate_metadata)
        )

    @classmethod
    def of(cls, snapshot: HostSnapshot) -> HostState:
        """A host as the conductor's view reports it, with its facts when it sent them."""
        return cls(snapshot.host, snapshot.usage, snapshot.facts or NO_FACTS)

    @property
    def id(self) -> UUID:
        return self.host.id

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def generation(self) -> int:
        return self.host.generation

    @property
    def cpu_arch(self) -> str | None:
        """The reported architecture, else the one an HW_ARCH_* trait names."""
        if self.facts.cpu_arch:
            return self.facts.cpu_arch.lower()
        for trait in self.inventory.traits:
            if trait.startswith(_ARCH_TRAIT):
                return trait.removeprefix(_ARCH_TRAIT).lower()
        return None

    @property
    def free_cells(self) -> list[FreeCell]:
        """The free CPUs and memory of each NUMA cell (not to be modified)."""
        if self._cells is None:
            object.__setattr__(self, "_cells", free_cells(self.inventory.numa_cells, self.usage))
        assert self._cells is not None
        return self._cells

    @property
    def pci_pool(self) -> PciPool:
        """The host's devices and those in use; `take_all` resets it on every call."""
        if self._pool is None:
            pool = PciPool(
                self.inventory.pci_devices, self.usage.pci_devices, self.inventory.numa_cells
            )
            object.__setattr__(self, "_pool", pool)
        assert self._pool is not None
        return self._pool

    @property
    def pci_free(self) -> PciFree:
        """The host's free devices, for fast yes/no answers (`schemas.pci_fit`)."""
        if self._free is None:
            inv = self.inventory
            found = PciFree(inv.pci_devices, self.usage.pci_devices, inv.numa_cells)
            object.__setattr__(self, "_free", found)
        assert self._free is not None
        return self._free

    def remember_row(self, row: tuple[int, ...]) -> None:
        """Keep this state's row of the host index (rebuilding an index after a refresh
        then costs nothing for the hosts that did not change)."""
        object.__setattr__(self, "row", row)

    def with_claim(self, claim: Claim) -> HostState:
        """This host with `claim` taken too (a plan consuming capacity as it goes)."""
        return replace(self, usage=add_claim(self.usage, claim))
