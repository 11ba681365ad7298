"""The conductor's `skymesh` subcommands: `conductor`, `db upgrade` and `db status`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import asyncpg

from conductor.db import migrate
from conductor.db.admin import create_database, split_dsn
from corebus.config import Settings


def register(commands: Any) -> None:
    """Add `conductor` and the `db` command group to the `skymesh` subparsers."""
    conductor = commands.add_parser("conductor", help="run a conductor process")
    conductor.set_defaults(func=run_conductor_command)
    seed_cmd = commands.add_parser(
        "seed", help="create the demo projects, users, flavors and image (idempotent)"
    )
    seed_cmd.set_defaults(func=run_seed)
    api_doc = commands.add_parser("api-doc", help="write the AMQP API reference")
    api_doc.add_argument("--out", default="docs/amqp-api.md")
    api_doc.set_defaults(func=write_api_doc)
    db = commands.add_parser("db", help="the conductor's PostgreSQL database")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = sub.add_parser(
        "upgrade", help="create the database if missing and apply pending migrations"
    )
    upgrade.set_defaults(func=db_upgrade)
    drop = sub.add_parser("drop", help="drop the database (everything in it is lost)")
    drop.set_defaults(func=db_drop)
    status = sub.add_parser("status", help="list applied and pending migrations")
    status.set_defaults(func=db_status)


async def _upgrade(dsn: str) -> list[migrate.Migration]:
    if await create_database(dsn):
        print(f"created database {split_dsn(dsn)[1]}")
    return await migrate.upgrade(dsn)


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    try:
        applied = asyncio.run(_upgrade(settings.database.dsn))
    except migrate.MigrationError as exc:
        print(f"error: {exc}")
        return 1
    for migration in applied:
        print(f"applied {migration.label}")
    if not applied:
        print("database schema is up to date")
    return 0


def db_status(args: argparse.Namespace, settings: Settings) -> int:
    try:
        states = asyncio.run(migrate.status(settings.database.dsn))
    except asyncpg.InvalidCatalogNameError:
        print(
            f"database {split_dsn(settings.database.dsn)[1]} does not exist: "
            "run `skymesh db upgrade`"
        )
        return 1
    except migrate.MigrationError as exc:
        print(f"error: {exc}")
        return 1
    for state in states:
        when = state.applied_at.isoformat(timespec="seconds") if state.applied_at else ""
        print(f"{state.label:<40} {state.state:<8} {when}".rstrip())
    return 0 if all(s.state in ("applied", "pending") for s in states) else 1


def run_conductor_command(args: argparse.Namespace, settings: Settings) -> int:
    from conductor.main import SchemaNotReady, run_conductor

    try:
        asyncio.run(run_conductor(settings))
    except SchemaNotReady as exc:
        print(f"error: {exc}")
        return 1
    return 0


def db_drop(args: argparse.Namespace, settings: Settings) -> int:
    from conductor.db.admin import drop_database

    asyncio.run(drop_database(settings.database.dsn))
    print(f"dropped database {split_dsn(settings.database.dsn)[1]}")
    return 0


def write_api_doc(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from conductor.api_doc import render

    Path(args.out).write_text(render())
    print(f"wrote {args.out}")
    return 0


def run_seed(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from conductor.db.pool import open_connection
    from conductor.seed import seed

    image_dir = Path(settings.conductor.image_dir or settings.home / "images")

    async def go() -> dict[str, Any]:
        async with open_connection(settings.database.dsn) as conn:
            return await seed(conn, image_dir)

    made = asyncio.run(go())
    print(
        f"projects {', '.join(made['projects'])}; flavors {', '.join(made['flavors'])}; "
        f"image busybox {made['image']}"
    )
    return 0
