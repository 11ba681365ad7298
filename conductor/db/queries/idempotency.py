"""Processed message ids and request idempotency keys, with the result first returned.

Call `remember` at the start of the transaction that handles the message: a concurrent
duplicate blocks on the key until that transaction ends, then gets False (already seen)
and can `lookup` the stored result; if the first transaction rolled back, the duplicate
inserts and handles the message itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conductor.db.types import Connection, affected


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str
    key: str
    result: Any
    created_at: datetime


async def remember(conn: Connection, scope: str, key: str, result: Any = None) -> bool:
    """Record (scope, key); True the first time, False when it was seen before."""
    status = await conn.execute(
        "INSERT INTO idempotency_keys (scope, key, result) VALUES ($1, $2, $3) "
        "ON CONFLICT (scope, key) DO NOTHING",
        scope,
        key,
        result,
    )
    return affected(status) == 1


async def lookup(conn: Connection, scope: str, key: str) -> IdempotencyRecord | None:
    row = await conn.fetchrow(
        "SELECT scope, key, result, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2",
        scope,
        key,
    )
    return None if row is None else IdempotencyRecord(**dict(row))


async def set_result(conn: Connection, scope: str, key: str, result: Any) -> bool:
    status = await conn.execute(
        "UPDATE idempotency_keys SET result = $3 WHERE scope = $1 AND key = $2",
        scope,
        key,
        result,
    )
    return affected(status) == 1


async def purge(conn: Connection, created_before: datetime, *, scope: str | None = None) -> int:
    """Forget keys older than the retention; the count."""
    status = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < $1 AND ($2::text IS NULL OR scope = $2)",
        created_before,
        scope,
    )
    return affected(status)
