"""The filters and weighers a scheduler may be configured with, by name: an explicit
map to a factory, never discovered by scanning. The default lists follow Nova's defaults
(plus resource fit and zones, which Nova leaves to Placement), cheapest first."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from scheduler.filter_options import FilterOptions
from scheduler.filters import Filter
from scheduler.filters.aggregate_extra_specs import AggregateInstanceExtraSpecsFilter
from scheduler.filters.availability_zone import AvailabilityZoneFilter
from scheduler.filters.compute import ComputeFilter
from scheduler.filters.compute_capabilities import ComputeCapabilitiesFilter
from scheduler.filters.hosts import HostsFilter
from scheduler.filters.image_properties import ImagePropertiesFilter
from scheduler.filters.io_ops import IoOpsFilter
from scheduler.filters.num_instances import NumInstancesFilter
from scheduler.filters.numa_topology import NumaTopologyFilter
from scheduler.filters.pci_passthrough import PciPassthroughFilter
from scheduler.filters.resources import ResourcesFilter
from scheduler.filters.server_group_affinity import ServerGroupAffinityFilter
from scheduler.filters.server_group_anti_affinity import ServerGroupAntiAffinityFilter
from scheduler.filters.tenant_isolation import TenantIsolationFilter
from scheduler.filters.traits import TraitsFilter
from scheduler.weighers import Weigher
from scheduler.weighers.build_failure import BuildFailureWeigher
from scheduler.weighers.cpu import CpuWeigher
from scheduler.weighers.disk import DiskWeigher
from scheduler.weighers.io_ops import IoOpsWeigher
from scheduler.weighers.num_instances import NumInstancesWeigher
from scheduler.weighers.pci import PciWeigher
from scheduler.weighers.ram import RamWeigher
from scheduler.weighers.soft_affinity import SoftAffinityWeigher
from scheduler.weighers.soft_anti_affinity import SoftAntiAffinityWeigher

FILTERS: dict[str, Callable[[FilterOptions], Filter]] = {
    "compute": lambda _: ComputeFilter(),
    "hosts": lambda _: HostsFilter(),
    "availability_zone": lambda _: AvailabilityZoneFilter(),
    "traits": lambda _: TraitsFilter(),
    "tenant_isolation": lambda _: TenantIsolationFilter(),
    "aggregate_instance_extra_specs": lambda _: AggregateInstanceExtraSpecsFilter(),
    "compute_capabilities": lambda _: ComputeCapabilitiesFilter(),
    "image_properties": lambda _: ImagePropertiesFilter(),
    "server_group_affinity": lambda _: ServerGroupAffinityFilter(),
    "server_group_anti_affinity": lambda _: ServerGroupAntiAffinityFilter(),
    "io_ops": lambda o: IoOpsFilter(o.max_io_ops_per_host),
    "num_instances": lambda o: NumInstancesFilter(o.max_instances_per_host),
    "resources": lambda _: ResourcesFilter(),
    "pci_passthrough": lambda _: PciPassthroughFilter(),
    "numa_topology": lambda _: NumaTopologyFilter(),
}

# cheapest first: group-wise checks, then the resource columns, then topology searches;
# Nova's defaults plus zone, traits, aggregate extra specs, resource fit and topology
# (which pass at once for requests without PCI devices or a NUMA topology)
DEFAULT_FILTERS: tuple[str, ...] = tuple(
    name for name in FILTERS if name not in ("tenant_isolation", "io_ops", "num_instances")
)

WEIGHERS: dict[str, Callable[[float], Weigher]] = {
    "ram": RamWeigher,
    "cpu": CpuWeigher,
    "disk": DiskWeigher,
    "io_ops": IoOpsWeigher,
    "num_instances": NumInstancesWeigher,
    "pci": PciWeigher,
    "soft_affinity": SoftAffinityWeigher,
    "soft_anti_affinity": SoftAntiAffinityWeigher,
    "build_failure": BuildFailureWeigher,
}

# Nova's default multipliers
DEFAULT_WEIGHERS: dict[str, float] = {
    "ram": 1.0,
    "cpu": 1.0,
    "disk": 1.0,
    "io_ops": -1.0,
    "num_instances": 0.0,
    "pci": 1.0,
    "soft_affinity": 1.0,
    "soft_anti_affinity": 1.0,
    "build_failure": 1e6,
}


def build_filters(names: Iterable[str], options: FilterOptions | None = None) -> list[Filter]:
    """The named filters, in the order given (cheapest first), with their options."""
    names = list(names)
    unknown = [name for name in names if name not in FILTERS]
    if unknown:
        raise ValueError(f"unknown filters {unknown} (known: {sorted(FILTERS)})")
    options = options or FilterOptions()
    return [FILTERS[name](options) for name in names]


def build_weighers(multipliers: Mapping[str, float]) -> list[Weigher]:
    """The named weighers, each with its multiplier (0 leaves a weigher out: it could
    only add zeros)."""
    unknown = [name for name in multipliers if name not in WEIGHERS]
    if unknown:
        raise ValueError(f"unknown weighers {unknown} (known: {sorted(WEIGHERS)})")
    return [WEIGHERS[name](m) for name, m in multipliers.items() if m != 0]
