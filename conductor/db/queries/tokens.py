"""Issued tokens, stored only as the sha256 (hex) of the token."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.types import Connection, affected, as_dict, one


async def store_token(
    conn: Connection,
    token_hash: str,
    user_id: UUID,
    project_id: UUID | None,
    roles: Sequence[str],
    expires_at: datetime,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO tokens (token_hash, user_id, project_id, roles, expires_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING *",
        token_hash,
        user_id,
        project_id,
        list(roles),
        expires_at,
    )
    return one(row)


async def valid_token(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    """The token row when it exists, is not revoked nor expired, and its user is enabled."""
    return as_dict(
        await conn.fetchrow(
            "SELECT t.* FROM tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.token_hash = $1 AND NOT t.revoked AND t.expires_at > now() AND u.enabled",
            token_hash,
        )
    )


async def revoke_token(conn: Connection, token_hash: str) -> bool:
    status = await conn.execute(
        "UPDATE tokens SET revoked = true, revoked_at = now() "
        "WHERE token_hash = $1 AND NOT revoked",
        token_hash,
    )
    return affected(status) == 1


async def revoke_user_tokens(conn: Connection, user_id: UUID) -> int:
    status = await conn.execute(
        "UPDATE tokens SET revoked = true, revoked_at = now() WHERE user_id = $1 AND NOT revoked",
        user_id,
    )
    return affected(status)


async def purge_expired(conn: Connection, before: datetime) -> int:
    """Delete tokens that expired before `before`; the number deleted."""
    status = await conn.execute("DELETE FROM tokens WHERE expires_at < $1", before)
    return affected(status)
