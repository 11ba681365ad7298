"""The connection contract every query function takes as its first argument.

asyncpg ships no type information, so this Protocol states what the query modules use;
`asyncpg.Connection` and a pool's connection proxy both satisfy it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

Row = Mapping[str, Any]


class Transaction(Protocol):
    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *exc: object) -> Any: ...


class Connection(Protocol):
    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str: ...

    async def executemany(
        self, command: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None: ...

    async def fetch(self, query: str, *args: Any, timeout: float | None = None) -> list[Any]: ...

    async def fetchrow(
        self, query: str, *args: Any, timeout: float | None = None
    ) -> Any | None: ...

    async def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Any: ...

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Transaction: ...

    def is_in_transaction(self) -> bool: ...

    def is_closed(self) -> bool: ...


def one(row: Any | None) -> dict[str, Any]:
    """A row that must exist (INSERT ... RETURNING, a checked lookup) as a dict."""
    if row is None:
        raise LookupError("the query returned no row")
    return dict(row)


def as_dict(row: Any | None) -> dict[str, Any] | None:
    """An asyncpg Record as a plain dict (None stays None)."""
    return None if row is None else dict(row)


def as_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


def affected(status: str) -> int:
    """The row count of a command status such as 'UPDATE 3' or 'INSERT 0 1'."""
    return int(status.rsplit(" ", 1)[-1])
