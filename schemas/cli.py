"""`skymesh schemas ...` subcommands: export JSON Schema, check message fingerprints."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from schemas import fingerprint
from schemas.export import DEFAULT_OUT, export


def register(commands: Any) -> None:
    """Add `schemas export [--out DIR]` and `schemas fingerprints [--update]`."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "schemas", help="message and resource contracts"
    )
    sub = parser.add_subparsers(dest="schemas_command", metavar="SUBCOMMAND", required=True)
    exporter = sub.add_parser("export", help="write JSON Schema files and an index")
    exporter.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})"
    )
    exporter.set_defaults(func=run_export)
    prints = sub.add_parser("fingerprints", help="compare message fingerprints to the file")
    prints.add_argument("--update", action="store_true", help="rewrite the recorded file")
    prints.set_defaults(func=run_fingerprints)


def run_export(args: argparse.Namespace, settings: object) -> int:
    index = export(args.out)
    print(
        f"wrote {len(index['messages'])} message and {len(index['resources'])} resource "
        f"schemas to {args.out}"
    )
    return 0


def run_fingerprints(args: argparse.Namespace, settings: object) -> int:
    return fingerprint.main(["--update"] if args.update else [])
