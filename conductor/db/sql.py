"""Small helpers for the few queries whose shape depends on their arguments."""

from __future__ import annotations

import enum
from typing import Any


class Unset(enum.Enum):
    """The type of UNSET: "leave this column alone" (None means SQL NULL)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


class Params:
    """Collects positional parameters; `add` returns the placeholder ($n) to put in SQL."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def matches_any(column: str, params: Params, allowed: Any) -> str:
    """A condition: `column` is one of `allowed` (a value or a list; None matches NULL)."""
    values = list(allowed) if isinstance(allowed, (list, tuple, set, frozenset)) else [allowed]
    non_null = [v for v in values if v is not None]
    clauses = []
    if non_null:
        clauses.append(f"{column} = ANY({params.add(non_null)})")
    if len(non_null) < len(values):
        clauses.append(f"{column} IS NULL")
    return "(" + " OR ".join(clauses or ["false"]) + ")"
