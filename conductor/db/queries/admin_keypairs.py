"""Key pairs: a user's public keys by name."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, as_dicts, one

_COLUMNS = "name, user_id, type, public_key, fingerprint, created_at"


async def list_keypairs(
    conn: Connection, user_id: UUID, *, marker: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM keypairs WHERE user_id = $1 "
        "AND ($2::text IS NULL OR name > $2) ORDER BY name LIMIT $3",
        user_id,
        marker,
        limit,
    )
    return as_dicts(rows)


async def get_keypair(conn: Connection, user_id: UUID, name: str) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM keypairs WHERE user_id = $1 AND name = $2", user_id, name
        )
    )


async def count_locked(conn: Connection, user_id: UUID) -> int:
    """How many key pairs the user has, with the user's row locked until the transaction
    ends, so concurrent creates count one after the other."""
    await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
    count: int = await conn.fetchval("SELECT count(*) FROM keypairs WHERE user_id = $1", user_id)
    return count


async def count_keypairs(conn: Connection, user_id: UUID) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM keypairs WHERE user_id = $1", user_id)
    return count


async def user_exists(conn: Connection, user_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM users WHERE id = $1", user_id))


async def insert_keypair(
    conn: Connection, user_id: UUID, name: str, type_: str, public_key: str, fingerprint: str
) -> dict[str, Any]:
    """Raises asyncpg.UniqueViolationError when the user has a key pair of that name."""
    return one(
        await conn.fetchrow(
            "INSERT INTO keypairs (user_id, name, type, public_key, fingerprint) "
            f"VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}",
            user_id,
            name,
            type_,
            public_key,
            fingerprint,
        )
    )


async def delete_keypair(conn: Connection, user_id: UUID, name: str) -> bool:
    status = await conn.execute(
        "DELETE FROM keypairs WHERE user_id = $1 AND name = $2", user_id, name
    )
    return affected(status) == 1
