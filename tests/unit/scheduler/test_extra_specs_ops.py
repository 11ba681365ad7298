"""Nova's extra-spec operators, table-driven."""

from __future__ import annotations

import pytest

from scheduler.extra_specs_ops import match

CASES = [
    ("plain equal", "QEMU", "QEMU", True),
    ("plain differs", "QEMU", "xen", False),
    ("= means at least", "8", "= 4", True),
    ("= below", "2", "= 4", False),
    ("==", "4", "== 4.0", True),
    ("!=", "4", "!= 4", False),
    (">=", "4096", ">= 4096", True),
    ("<=", "4097", "<= 4096", False),
    ("not a number", "lots", ">= 1", False),
    ("s==", "abc", "s== abc", True),
    ("s!=", "abc", "s!= abc", False),
    ("s<", "abc", "s< abd", True),
    ("s>=", "abc", "s>= abd", False),
    ("<in>", "sse4 avx2", "<in> avx2", True),
    ("<in> missing", "sse4", "<in> avx2", False),
    ("<all-in>", "a b c", "<all-in> a c", True),
    ("<all-in> one missing", "a b", "<all-in> a c", False),
    ("<or> second", "silver", "<or> gold <or> silver", True),
    ("<or> none", "bronze", "<or> gold <or> silver", False),
    ("operator without an argument", "4", ">=", False),
    ("unknown value", None, ">= 1", False),
]


@pytest.mark.parametrize(
    ("value", "requirement", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_match(value: str | None, requirement: str, expected: bool) -> None:
    assert match(value, requirement) is expected
