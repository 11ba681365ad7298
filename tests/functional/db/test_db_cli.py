"""`skymesh db upgrade` and `skymesh db status` (conductor/cli.py)."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from db_factories import derived_dsn

from conductor import cli
from conductor.db.admin import drop_database
from conductor.db.migrate import discover
from corebus.config import DatabaseSettings, Settings

pytestmark = pytest.mark.functional


def run(argv: list[str], dsn: str) -> int:
    parser = argparse.ArgumentParser(prog="skymesh")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    settings = Settings(database=DatabaseSettings(dsn=dsn))
    return int(args.func(args, settings))


def test_db_upgrade_creates_the_database_then_migrates(
    pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = derived_dsn(pg_dsn)
    try:
        assert run(["db", "status"], dsn) == 1
        assert "does not exist" in capsys.readouterr().out

        assert run(["db", "upgrade"], dsn) == 0
        out = capsys.readouterr().out
        assert "created database" in out
        assert all(f"applied {m.label}" in out for m in discover())

        assert run(["db", "upgrade"], dsn) == 0
        assert "up to date" in capsys.readouterr().out

        assert run(["db", "status"], dsn) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[:2] for line in lines] == [[m.label, "applied"] for m in discover()]
    finally:
        asyncio.run(drop_database(dsn))
