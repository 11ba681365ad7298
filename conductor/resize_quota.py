"""Quota during a resize, as Nova counts it: while a move is in progress the project
uses the larger of the old and the new flavor, per resource (the growth is consumed,
limit-checked, when the resize starts); when the move ends the usage comes down to the
flavor the instance keeps. `quota_deltas(row)` (lifecycle.py) stays the instance's
share outside a move."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from conductor.db.queries import quotas
from conductor.db.types import Connection
from conductor.quota import charge


def _share(flavor: Mapping[str, Any]) -> dict[str, int]:
    return {"cores": int(flavor["vcpus"]), "ram": int(flavor["memory_mb"])}


async def consume_growth(
    conn: Connection, project_id: UUID, old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    """Count what the new flavor takes beyond the old one (QuotaExceeded when over)."""
    before, after = _share(old), _share(new)
    growth = {r: after[r] - before[r] for r in after if after[r] > before[r]}
    if not growth:
        return
    await charge(conn, project_id, growth)


async def settle_on(
    conn: Connection, project_id: UUID, migration: Mapping[str, Any], kept: Mapping[str, Any]
) -> None:
    """The move ended with the instance on flavor `kept`: give back the rest."""
    old, new, keep = _share(migration["old_flavor"]), _share(migration["new_flavor"]), _share(kept)
    extra = {r: max(old[r], new[r]) - keep[r] for r in keep}
    extra = {r: d for r, d in extra.items() if d > 0}
    if extra:
        await quotas.release(conn, project_id, extra)
