"""Flavor extra specs `aggregate_instance_extra_specs:KEY=REQ` (and unscoped ones) must
match the metadata of one of the host's aggregates, with Nova's operators (Nova's
AggregateInstanceExtraSpecsFilter): a flavor for SSD hosts lands only in aggregates
tagged `ssd=true`."""

from __future__ import annotations

from collections.abc import Hashable

from scheduler.extra_specs_ops import match
from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.filters.extra_specs import scoped
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec

SCOPE = "aggregate_instance_extra_specs"


def _key(host: HostState) -> Hashable:
    metadata = host.facts.aggregate_metadata
    return tuple(sorted((name, tuple(sorted(meta.items()))) for name, meta in metadata.items()))


class AggregateInstanceExtraSpecsFilter:
    name = "aggregate_instance_extra_specs"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        metadata = host.facts.aggregate_metadata
        for key, requirement in scoped(spec.flavor_extra_specs, SCOPE):
            values = sorted({meta[key] for meta in metadata.values() if key in meta})
            if not values:
                return reject(
                    f"no aggregate of the host sets {key} (the flavor asks {requirement!r})"
                )
            if not any(match(value, requirement) for value in values):
                found = "|".join(values)
                return reject(f"aggregate {key}={found} does not match {requirement!r}")
        return PASS

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        if not any(True for _ in scoped(spec.flavor_extra_specs, SCOPE)):
            return rows
        return by_group(self, index, spec, rows, _key)
