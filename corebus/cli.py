"""The `skymesh` entry point. It only dispatches: each package registers its own
subcommands through a `register(subcommands)` function in its `cli` module, listed
explicitly below (no discovery by scanning)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from corebus.config import load_settings
from corebus.logs import configure_logging

COMMAND_MODULES: tuple[str, ...] = (
    "corebus.up_cli",
    "corebus.watch_cli",
    "conductor.cli",
    "conductor.audit_cli",
    "gateway.cli",
    "scheduler.cli",
    "node_agent.cli",
    "schemas.cli",
    "bench.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skymesh", description="skymesh cloud control plane")
    parser.add_argument(
        "--config",
        help="TOML settings file (default: $SKYMESH_CONFIG or $SKYMESH_HOME/skymesh.toml)",
    )
    parser.add_argument("--log-level", help="override the configured log level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(args.config)
    configure_logging(settings.logging, level=args.log_level)
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
