"""The answer to `scheduler.explain`: an Outcome of the pipeline as a reply, with what
each filter removed, the best hosts and each weigher's share of their scores, and for a
named host the filter that removed it (and why) or its rank and weight."""

from __future__ import annotations

from scheduler.host_index import HostIndex
from scheduler.pipeline import Outcome, Pipeline, Ranked, RankedRows
from schemas.messages.scheduler import (
    ExplainPlacementReply,
    FilterCount,
    HostVerdict,
    HostWeight,
    RequestSpec,
)


def _weight(ranked: Ranked, rank: int) -> HostWeight:
    return HostWeight(
        host=ranked.host.name, rank=rank, score=ranked.score, contributions=ranked.contributions
    )


def _rank(outcome: Outcome, index: HostIndex, row: int) -> HostWeight | None:
    ranked = outcome.ranked
    if isinstance(ranked, RankedRows):
        position = ranked.position(row)
    else:
        name = index.states[row].name
        position = next((i for i, r in enumerate(ranked) if r.host.name == name), None)
    return None if position is None else _weight(ranked[position], position)


def verdict(
    pipeline: Pipeline, index: HostIndex, outcome: Outcome, spec: RequestSpec, name: str
) -> HostVerdict:
    """Why host `name` was removed (the first filter refusing it), or where it ranks."""
    row = index.by_name.get(name)
    if row is None:
        return HostVerdict(
            host=name,
            passed=False,
            reason="not in the scheduler's host view (down, removed, or not a compute host)",
        )
    why = outcome.excluded.get(name) or pipeline.why(index.states[row], spec)
    if why is not None:
        return HostVerdict(host=name, passed=False, filter=why.filter, reason=why.reason)
    return HostVerdict(host=name, passed=True, weight=_rank(outcome, index, row))


def explain(
    pipeline: Pipeline,
    index: HostIndex,
    spec: RequestSpec,
    *,
    host: str | None = None,
    limit: int = 3,
) -> ExplainPlacementReply:
    """Run the pipeline on `index` for `spec` (nothing is claimed) and say why."""
    outcome = pipeline.select(index, spec)
    return ExplainPlacementReply(
        considered=outcome.considered,
        passed=len(outcome.ranked),
        filters=tuple(FilterCount(filter=f, removed=n) for f, n in outcome.removed.items()),
        last_filter=outcome.last_filter,
        summary=outcome.explain(),
        best=tuple(_weight(r, i) for i, r in enumerate(outcome.ranked[:limit])),
        host=None if host is None else verdict(pipeline, index, outcome, spec, host),
    )
