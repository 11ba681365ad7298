"""A host's inventory as its aggregates reshape it: allocation ratios and reserved
amounts set in aggregate metadata override the host's own.

Nova's AggregateCoreFilter, AggregateRamFilter and AggregateDiskFilter take the lowest
ratio among the host's aggregates; skymesh does the same and, for reserved amounts, the
highest, so a host in two aggregates gets the most conservative of both. The scheduler
filters with the result and the conductor re-checks a claim with the same function.
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas.placement import HostInventory

RATIO_KEYS = ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio")
RESERVED_KEYS = {
    "reserved_vcpus": "vcpus",
    "reserved_memory_mb": "memory_mb",
    "reserved_disk_gb": "disk_gb",
}


def _numbers(metadata: Mapping[str, Mapping[str, str]], key: str) -> list[float]:
    values = []
    for meta in metadata.values():
        raw = meta.get(key)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue  # a malformed value is ignored, as Nova does (with a warning)
        if value >= 0:
            values.append(value)
    return values


def effective_inventory(
    inventory: HostInventory, metadata: Mapping[str, Mapping[str, str]]
) -> HostInventory:
    """`inventory` with the ratios and reserved amounts its aggregates' `metadata`
    (aggregate name -> metadata) set; the same object when they set none."""
    if not metadata:
        return inventory
    update: dict[str, float | int] = {}
    for key in RATIO_KEYS:
        ratios = [value for value in _numbers(metadata, key) if value > 0]
        if ratios:
            update[key] = min(ratios)
    for key, total in RESERVED_KEYS.items():
        reserved = _numbers(metadata, key)
        if reserved:
            update[key] = min(int(max(reserved)), getattr(inventory, total))
    if not update:
        return inventory
    return inventory.model_copy(update=update)
