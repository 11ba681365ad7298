"""Weighers: one per module, pure and synchronous. A weigher gives each passing host a
raw value (more is better); the pipeline normalises the values of all hosts to [0, 1]
(min-max, all 0 when every host has the same value) and multiplies by `multiplier`, so
a positive multiplier spreads instances and a negative one stacks them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


class Weigher(Protocol):
    name: str
    multiplier: float

    def weigh(self, host: HostState, spec: RequestSpec) -> float: ...


def normalise(values: Sequence[float]) -> list[float]:
    """Min-max to [0, 1]; all 0 when the values are equal (as Nova does)."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    return [(value - low) / (high - low) for value in values]
