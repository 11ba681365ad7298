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


def run_bus(args: argparse.Namespace, settings: Settings) -> int:
    from bench.bus import run

    result = asyncio.run(run(settings.amqp.url, args.calls, args.events))
    if not args.json:
        for transport, figures in result.items():
            print(transport, " ".join(f"{k}={v}" for k, v in figures.items()))
    print(json.dumps(result))
    return 0
