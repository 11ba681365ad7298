"""`skymesh bench scheduler`: the time of one scheduling decision, from a request to its
chosen host (filters, weighers, the claim), over the whole host view of synthetic host
sets, with the default filters and every weigher (`default`) and with the NUMA and PCI
filters on and requests that use them (`numa_pci`). Each decision's claim is then taken
into the view (untimed), as the scheduler's cache does after an apply.

Then claims per second through a real conductor: plans applied by `conductor.apply_plan`
on a throwaway PostgreSQL database (bench/scheduler_claims.py); null when no database
server answers (or with `--no-claims`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from rich.console import Console

from bench.scheduler_claims import claims_per_second
from bench.scheduler_hosts import hosts, requests
from bench.stats import percentile
from scheduler.host_index import HostIndex
from scheduler.pipeline import Pipeline
from scheduler.planner import plan_instances
from scheduler.registry import DEFAULT_FILTERS, DEFAULT_WEIGHERS, build_filters, build_weighers
from schemas.errors import NoValidHost

err = Console(stderr=True)

PROFILES = {
    "default": tuple(f for f in DEFAULT_FILTERS if f not in ("pci_passthrough", "numa_topology")),
    "numa_pci": DEFAULT_FILTERS,
}


def decide(pipeline: Pipeline, index: HostIndex, profile: str, count: int) -> dict[str, float]:
    """Time `count` decisions on `index`; p50/p95 in milliseconds."""
    samples: list[float] = []
    refused = 0
    for spec in requests(count, profile):
        started = time.perf_counter()
        try:
            (planned,) = plan_instances(pipeline, index, spec, spec.instance_ids)
        except NoValidHost:
            refused += 1
            samples.append((time.perf_counter() - started) * 1000)
            continue
        samples.append((time.perf_counter() - started) * 1000)
        chosen = planned.primary
        index.replace(index.by_name[chosen.host.name], chosen.host.with_claim(chosen.claim))
    return {
        "p50_ms": round(percentile(samples, 50), 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "no_valid_host": refused,
    }


def run(host_counts: Sequence[int], count: int) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    weighers = build_weighers(DEFAULT_WEIGHERS)
    for n in host_counts:
        states = hosts(n)
        for profile, filters in PROFILES.items():
            index = HostIndex(states)
            pipeline = Pipeline(build_filters(filters), weighers)
            figures = decide(pipeline, index, profile, count)
            result: dict[str, object] = {
                "hosts": n,
                "profile": profile,
                "p50_ms": figures["p50_ms"],
                "p95_ms": figures["p95_ms"],
            }
            err.print(
                f"[bold]{n}[/] hosts, {profile}: p50 {figures['p50_ms']} ms, "
                f"p95 {figures['p95_ms']} ms ({figures['no_valid_host']} NoValidHost)"
            )
            results.append(result)
    return results


def claims(server_dsn: str) -> float | None:
    """Claims per second through a real conductor, None when PostgreSQL is not there."""
    try:
        rate = asyncio.run(claims_per_second(server_dsn))
    except OSError as exc:
        err.print(f"claims through the conductor not measured: {exc}")
        return None
    err.print(f"claims through the conductor: {rate:.1f}/s")
    return round(rate, 1)
