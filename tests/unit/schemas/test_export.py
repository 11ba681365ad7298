"""JSON Schema export and the `skymesh schemas` subcommands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from schemas import cli
from schemas.catalog import RESOURCES
from schemas.export import export
from schemas.messages import all_messages


def test_export_writes_every_message_and_resource(tmp_path: Path) -> None:
    index = export(tmp_path)
    assert set(index["messages"]) == set(all_messages())
    assert set(index["resources"]) == {model.__name__ for model in RESOURCES}
    assert json.loads((tmp_path / "index.json").read_text()) == index
    spawn = json.loads((tmp_path / "messages/node_agent.compute.spawn.json").read_text())
    assert spawn["x-message-name"] == "node_agent.compute.spawn"
    assert spawn["x-message-version"] == 1
    assert spawn["$schema"].startswith("https://json-schema.org/")
    assert spawn["additionalProperties"] is False
    assert "claim" in spawn["required"]
    port = json.loads((tmp_path / "resources/Port.json").read_text())
    assert "mac_address" in port["properties"]


def test_export_is_deterministic_and_removes_stale_files(tmp_path: Path) -> None:
    export(tmp_path)
    stale = tmp_path / "messages/gone.message.json"
    stale.write_text("{}")
    before = {p: p.read_text() for p in tmp_path.rglob("*.json") if p != stale}
    export(tmp_path)
    assert not stale.exists()
    assert {p: p.read_text() for p in tmp_path.rglob("*.json")} == before


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skymesh")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["schemas", "export", "--out", str(tmp_path / "out")])
    assert args.func(args, None) == 0
    assert (tmp_path / "out/index.json").exists()
    assert "message and" in capsys.readouterr().out


def test_cli_fingerprints_check_passes() -> None:
    args = _parser().parse_args(["schemas", "fingerprints"])
    assert args.func(args, None) == 0


def test_cli_needs_a_subcommand() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["schemas"])


def test_committed_docs_are_current(tmp_path: Path) -> None:
    """docs/schemas is generated: regenerate with `skymesh schemas export` when this fails."""
    docs = Path(__file__).resolve().parents[3] / "docs/schemas"
    if not docs.exists():
        pytest.skip("docs/schemas not generated in this checkout")
    export(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*.json")}
    committed = {p.relative_to(docs): p.read_text() for p in docs.rglob("*.json")}
    assert fresh == committed, "run `skymesh schemas export` and commit docs/schemas"
