"""`skymesh audit [--repair]`: drift and leaks between the database, the agents and OVN.

Prints one line per finding with its repair policy, then a summary line; exits 0 when
there was nothing to report and 1 when there was (with `--repair`, after repairing
what its policy allows: run it again to see what is left)."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from conductor.audit import Report, audit
from conductor.db.pool import open_pool
from corebus.config import Settings
from corebus.transport import make_bus


def register(commands: Any) -> None:
    cmd = commands.add_parser(
        "audit", help="compare the database with the agents' snapshots and OVN; report drift"
    )
    cmd.add_argument(
        "--repair", action="store_true", help="adopt, clean up or flag each finding by its policy"
    )
    cmd.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the agents' snapshots"
    )
    cmd.set_defaults(func=run_audit)


async def run(settings: Settings, *, repair: bool, timeout: float) -> Report:
    async with open_pool(settings.database, role="audit") as pool:
        bus = make_bus(settings.amqp, name=f"audit:{os.getpid()}")
        await bus.start()
        try:
            return await audit(pool, bus, repair=repair, timeout=timeout)
        finally:
            await bus.close()


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    report = asyncio.run(run(settings, repair=args.repair, timeout=args.timeout))
    for line in report.lines():
        print(line)
    return 1 if report.findings else 0
