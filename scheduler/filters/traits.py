"""The host has every required trait and none of the forbidden ones."""

from __future__ import annotations

from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class TraitsFilter:
    name = "traits"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        traits = host.inventory.traits
        missing = spec.required_traits - traits
        if missing:
            return reject(f"lacks traits {', '.join(sorted(missing))}")
        forbidden = spec.forbidden_traits & traits
        if forbidden:
            return reject(f"has forbidden traits {', '.join(sorted(forbidden))}")
        return PASS

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        if not spec.required_traits and not spec.forbidden_traits:
            return rows
        return by_group(self, index, spec, rows, lambda h: h.inventory.traits)
