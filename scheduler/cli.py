"""The scheduler's `skymesh` subcommand: `scheduler`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from corebus.config import Settings


def register(commands: Any) -> None:
    """Add `scheduler` to the `skymesh` subparsers."""
    scheduler = commands.add_parser("scheduler", help="run a scheduler process")
    scheduler.set_defaults(func=run_scheduler_command)


def run_scheduler_command(args: argparse.Namespace, settings: Settings) -> int:
    from scheduler.main import run_scheduler

    asyncio.run(run_scheduler(settings))
    return 0
