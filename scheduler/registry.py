"""The filters and weighers a scheduler may be configured with, by name: an explicit
map to a factory, never discovered by scanning."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from scheduler.filters import Filter
from scheduler.filters.availability_zone import AvailabilityZoneFilter
from scheduler.filters.compute import ComputeFilter
from scheduler.filters.hosts import HostsFilter
from scheduler.filters.resources import ResourcesFilter
from scheduler.filters.traits import TraitsFilter
from scheduler.weighers import Weigher
from scheduler.weighers.cpu import CpuWeigher
from scheduler.weighers.ram import RamWeigher

FILTERS: dict[str, Callable[[], Filter]] = {
    "compute": ComputeFilter,
    "hosts": HostsFilter,
    "availability_zone": AvailabilityZoneFilter,
    "traits": TraitsFilter,
    "resources": ResourcesFilter,
}

WEIGHERS: dict[str, Callable[[float], Weigher]] = {
    "ram": RamWeigher,
    "cpu": CpuWeigher,
}


def build_filters(names: Iterable[str]) -> list[Filter]:
    """The named filters, in the order given (cheapest first)."""
    unknown = [name for name in names if name not in FILTERS]
    if unknown:
        raise ValueError(f"unknown filters {unknown} (known: {sorted(FILTERS)})")
    return [FILTERS[name]() for name in names]


def build_weighers(multipliers: Mapping[str, float]) -> list[Weigher]:
    """The named weighers, each with its multiplier."""
    unknown = [name for name in multipliers if name not in WEIGHERS]
    if unknown:
        raise ValueError(f"unknown weighers {unknown} (known: {sorted(WEIGHERS)})")
    return [WEIGHERS[name](multiplier) for name, multiplier in multipliers.items()]
