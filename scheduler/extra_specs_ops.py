"""Nova's extra-spec operators, for matching a requirement ("<or> a <or> b", ">= 4096",
"s== QEMU", "<in> avx2", a plain value) against what a host or aggregate offers."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.ge,  # "= 4" means at least 4, as in Nova
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
}
_STRING: dict[str, Callable[[Any, Any], bool]] = {
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
}


def _any_of(value: str, words: Sequence[str]) -> bool:
    """`<or> a <or> b`: the words at even positions are the alternatives."""
    return value in words[::2]


def match(value: str | None, requirement: str) -> bool:
    """Whether `value` satisfies `requirement` (a plain requirement: equal strings)."""
    words = requirement.split()
    op = words[0] if words else ""
    known = op == "<or>" or op in _NUMERIC or op in _STRING or op in ("<in>", "<all-in>")
    if not known:
        return value == requirement
    if value is None or len(words) < 2:
        return False
    args = words[1:]
    if op == "<or>":
        return _any_of(value, args)
    if op == "<in>":
        return args[0] in value
    if op == "<all-in>":
        return all(word in value for word in args)
    if op in _STRING:
        return bool(_STRING[op](value, args[0]))
    try:
        return _NUMERIC[op](float(value), float(args[0]))
    except ValueError:
        return False
