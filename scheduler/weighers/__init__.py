"""Weighers: one per module, pure and synchronous. A weigher gives each passing host a
raw value (more is better); the pipeline normalises the values of all passing hosts to
[0, 1] (min-max, all 0 when every host has the same value) and multiplies by
`multiplier`, so the sign of a multiplier chooses between spreading and packing.

Like filters, each weigher has a per-host form (`weigh`) and a batch form (`column`,
the values for rows of a `HostIndex`) that must agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec
from schemas.server_group import ServerGroupPolicy

Values = npt.NDArray[np.float64]


class Weigher(Protocol):
    name: str
    multiplier: float

    def weigh(self, host: HostState, spec: RequestSpec) -> float: ...

    def column(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Values: ...


def normalise(values: Sequence[float]) -> list[float]:
    """Min-max to [0, 1]; all 0 when the values are equal (as Nova does)."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    return [(value - low) / (high - low) for value in values]


def normalise_column(values: Values) -> Values:
    """`normalise` over an array."""
    if values.size == 0:
        return values
    low, high = values.min(), values.max()
    if high == low:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def members_on(host: str, spec: RequestSpec, policy: ServerGroupPolicy) -> int:
    """How many members of the request's server group (with `policy`) `host` holds."""
    group = spec.server_group
    if group is None or group.policy is not policy:
        return 0
    return group.member_hosts.count(host)


def members_column(
    index: HostIndex, spec: RequestSpec, rows: Rows, policy: ServerGroupPolicy
) -> Values:
    """`members_on` for each of `rows`."""
    values = np.zeros(len(rows), dtype=np.float64)
    group = spec.server_group
    if group is None or group.policy is not policy or not group.member_hosts:
        return values
    position = {row: i for i, row in enumerate(rows.tolist())}
    for name, count in Counter(group.member_hosts).items():
        row = index.by_name.get(name)
        if row is not None and row in position:
            values[position[row]] = count
    return values
