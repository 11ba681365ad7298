"""`skymesh bench ...`: benchmarks (progress on stderr, JSON on the last stdout line)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from corebus.config import Settings


def register(commands: Any) -> None:
    bench = commands.add_parser("bench", help="run a benchmark")
    which = bench.add_subparsers(dest="bench", metavar="BENCHMARK", required=True)
    bus = which.add_parser("bus", help="RPC round trips and event throughput, both transports")
    bus.add_argument("--calls", type=int, default=2000, help="sequential calls (x5 concurrent)")
    bus.add_argument("--events", type=int, default=50000, help="events to publish")
    bus.add_argument("--json", action="store_true", help="print only the JSON result")
    bus.set_defaults(func=run_bus)
    boot = which.add_parser("boot", help="boots and deletes through the AMQP API, real processes")
    boot.add_argument("--agents", type=int, default=100)
    boot.add_argument("--servers", type=int, default=1000)
    boot.add_argument("--concurrency", type=int, default=50)
    boot.add_argument("--conductors", type=int, default=1)
    boot.add_argument("--json", action="store_true", help="print only the JSON result")
    boot.set_defaults(func=run_boot)
    drift = which.add_parser("drift", help="latency from an out-of-band change to the database")
    drift.add_argument("--servers", type=int, default=50)
    drift.add_argument("--agents", type=int, default=3)
    drift.add_argument("--json", action="store_true", help="print only the JSON result")
    drift.set_defaults(func=run_drift)
    sched = which.add_parser("scheduler", help="scheduling decisions over synthetic host sets")
    sched.add_argument("--hosts", default="100,1000,10000", help="host set sizes, a comma list")
    sched.add_argument("--requests", type=int, default=200, help="decisions per size and profile")
    sched.add_argument("--no-claims", action="store_true", help="skip claims through a conductor")
    sched.add_argument("--json", action="store_true", help="print only the JSON result")
    sched.set_defaults(func=run_scheduler)


def run_bus(args: argparse.Namespace, settings: Settings) -> int:
    from bench.bus import run

    result = asyncio.run(run(settings.amqp.url, args.calls, args.events))
    if not args.json:
        for transport, figures in result.items():
            print(transport, " ".join(f"{k}={v}" for k, v in figures.items()))
    print(json.dumps(result))
    return 0


def run_boot(args: argparse.Namespace, settings: Settings) -> int:
    from bench.boot import run

    result = asyncio.run(
        run(settings, args.agents, args.servers, args.concurrency, args.conductors)
    )
    result["agents"] = args.agents
    if not args.json:
        print(" ".join(f"{k}={v}" for k, v in result.items()))
    print(json.dumps(result))
    return 0


def run_drift(args: argparse.Namespace, settings: Settings) -> int:
    from bench.drift import run

    result = asyncio.run(run(settings, args.servers, args.agents))
    if not args.json:
        print(" ".join(f"{k}={v}" for k, v in result.items()))
    print(json.dumps(result))
    return 0


def run_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bench.scheduler import claims, run

    sizes = [int(part) for part in args.hosts.split(",") if part.strip()]
    results = run(sizes, args.requests)
    rate = None if args.no_claims else claims(settings.database.dsn)
    if not args.json:
        for row in results:
            print(" ".join(f"{k}={v}" for k, v in row.items()))
        print(f"claims_per_s={rate}")
    print(json.dumps({"results": results, "claims_per_s": rate}))
    return 0
