"""The fingerprint guard: a message's fields never change without a version bump."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field

from schemas import fingerprint
from schemas.base import Model

FILE = Path(__file__).with_name("fingerprints.json")


def test_recorded_fingerprints_match_the_code() -> None:
    """Fails when a message changed without a version bump, or the file is out of date.

    The failure message says what to do for each message; after bumping
    `message_version` where fields changed, run `python -m schemas.fingerprint --update`
    and commit tests/unit/schemas/fingerprints.json.
    """
    found = fingerprint.problems(fingerprint.load(FILE), fingerprint.current())
    assert not found, "\n".join(found)


def test_fingerprint_ignores_names_and_prose() -> None:
    class First(Model):
        """One docstring."""

        size: int = Field(1, ge=0, description="a size", title="Size")

    class Second(Model):
        """Another docstring."""

        size: int = Field(1, ge=0)

    assert fingerprint.fingerprint(First) == fingerprint.fingerprint(Second)


def test_fingerprint_sees_fields_constraints_defaults_and_nesting() -> None:
    class Inner(Model):
        a: int

    class InnerChanged(Model):
        a: int = Field(ge=1)

    class Outer(Model):
        inner: Inner

    class OuterChanged(Model):
        inner: InnerChanged

    class Base(Model):
        size: int = Field(1, ge=0)

    class NewField(Model):
        size: int = Field(1, ge=0)
        extra: str = ""

    class NewDefault(Model):
        size: int = Field(2, ge=0)

    class NewBound(Model):
        size: int = Field(1, ge=1)

    prints = {fingerprint.fingerprint(m) for m in (Base, NewField, NewDefault, NewBound)}
    assert len(prints) == 4
    assert fingerprint.fingerprint(Outer) != fingerprint.fingerprint(OuterChanged)


@pytest.mark.parametrize("seed", ["1", "4242"])
def test_fingerprints_do_not_depend_on_hash_seed(seed: str) -> None:
    """Set ordering must not leak into a fingerprint (e.g. a frozenset default)."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-m", "schemas.fingerprint", "--file", str(FILE)],
        env=env,
        cwd=FILE.parents[3],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_problems_explain_what_to_do() -> None:
    recorded = {
        "a.same": {"version": 1, "fingerprint": "x"},
        "a.changed": {"version": 1, "fingerprint": "x"},
        "a.bumped": {"version": 1, "fingerprint": "x"},
        "a.lowered": {"version": 3, "fingerprint": "x"},
        "a.removed": {"version": 1, "fingerprint": "x"},
    }
    actual = {
        "a.same": {"version": 1, "fingerprint": "x"},
        "a.changed": {"version": 1, "fingerprint": "y"},
        "a.bumped": {"version": 2, "fingerprint": "y"},
        "a.lowered": {"version": 2, "fingerprint": "x"},
        "a.new": {"version": 1, "fingerprint": "z"},
    }
    found = {line.split(":")[0]: line for line in fingerprint.problems(recorded, actual)}
    assert set(found) == {"a.changed", "a.bumped", "a.lowered", "a.removed", "a.new"}
    assert "bump message_version" in found["a.changed"]
    assert fingerprint.UPDATE in found["a.bumped"] and fingerprint.UPDATE in found["a.new"]
    assert "only grow" in found["a.lowered"]
    assert "no longer defined" in found["a.removed"]


def test_update_writes_a_file_that_then_matches(tmp_path: Path) -> None:
    target = tmp_path / "prints.json"
    assert fingerprint.main(["--file", str(target)]) == 1  # nothing recorded yet
    assert fingerprint.main(["--update", "--file", str(target)]) == 0
    assert fingerprint.load(target) == fingerprint.current()
    assert fingerprint.main(["--file", str(target)]) == 0
    assert target.read_text() == FILE.read_text()
