"""The conductor's token API: authenticate by password or token, validate, revoke.

A token is 32 random bytes (URL-safe base64) handed to the client once; the database
keeps only its sha256, the user, the project it is scoped to, the role names at issue
time and the expiry. Validation re-checks that the user is still enabled and still holds
a role on the project, so removing a role or a user takes effect at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from conductor.db.queries import identity, tokens
from conductor.db.types import Connection
from conductor.passwords import hash_password, verify_password
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Unauthorized
from schemas.messages.conductor_identity import (
    Authenticate,
    AuthenticateReply,
    NamedRef,
    RevokeToken,
    TokenInfo,
    ValidateToken,
    ValidateTokenReply,
)

REFUSED = "The request you have made requires authentication."
_DUMMY_HASH = hash_password(secrets.token_hex(8))  # equal cost for unknown users


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit_id(row_id: UUID) -> str:
    return base64.urlsafe_b64encode(row_id.bytes).decode().rstrip("=")


class TokenAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, ttl_s: float) -> None:
        self._pool = pool
        self._ttl = timedelta(seconds=ttl_s)

    @rpc
    async def authenticate(self, ctx: RequestContext, req: Authenticate) -> AuthenticateReply:
        async with self._pool.acquire() as conn:
            user, methods, expires_at = await self._who(conn, req)
            project = await _project(conn, req)
            roles: list[dict[str, Any]] = []
            if project is not None:
                roles = await identity.role_refs(conn, user["id"], project["id"])
                if not roles:
                    raise Unauthorized(
                        f"user {user['name']} has no role on project {project['name']}"
                    )
            secret = secrets.token_urlsafe(32)
            row = await tokens.store_token(
                conn,
                token_hash(secret),
                user["id"],
                project["id"] if project else None,
                [r["name"] for r in roles],
                expires_at,
            )
        info = TokenInfo(
            user=NamedRef(id=user["id"], name=user["name"]),
            project=NamedRef(id=project["id"], name=project["name"]) if project else None,
            roles=tuple(NamedRef(id=r["id"], name=r["name"]) for r in roles),
            methods=methods,
            issued_at=row["issued_at"],
            expires_at=row["expires_at"],
            audit_ids=(audit_id(row["id"]),),
        )
        return AuthenticateReply(token=secret, info=info)

    @rpc
    async def validate_token(self, ctx: RequestContext, req: ValidateToken) -> ValidateTokenReply:
        async with self._pool.acquire() as conn:
            info = await _token_info(conn, req.token)
        if info is None:
            raise Unauthorized("The token is invalid, expired or revoked.")
        return ValidateTokenReply(info=info)

    @rpc
    async def revoke_token(self, ctx: RequestContext, req: RevokeToken) -> None:
        """Revoke `req.token`: the bearer may revoke its own token, an admin any."""
        async with self._pool.acquire() as conn:
            row = await tokens.valid_token(conn, token_hash(req.token))
            if row is None:
                raise Unauthorized("The token is invalid, expired or revoked.")
            if not ctx.is_admin and row["user_id"] != ctx.user_id:
                raise Unauthorized("only the token's user or an admin may revoke it")
            await tokens.revoke_token(conn, token_hash(req.token))

    async def _who(
        self, conn: Connection, req: Authenticate
    ) -> tuple[dict[str, Any], tuple[str, ...], datetime]:
        """The user, the methods and the expiry of the token to issue."""
        if req.token is not None:  # rescoping keeps the original expiry
            old = await tokens.valid_token(conn, token_hash(req.token))
            user = await identity.get_user(conn, old["user_id"]) if old else None
            if old is None or user is None:
                raise Unauthorized(REFUSED)
            return user, ("token",), old["expires_at"]
        if req.user_id is not None:
            user = await identity.get_user(conn, req.user_id)
        else:
            user = await identity.get_user_by_name(conn, req.user_name or "")
        stored = user["password_hash"] if user else _DUMMY_HASH
        assert req.password is not None  # the message validates it
        ok = await asyncio.to_thread(verify_password, req.password, stored)
        if user is None or not ok or not user["enabled"]:
            raise Unauthorized(REFUSED)
        return user, ("password",), datetime.now(UTC) + self._ttl


async def _project(conn: Connection, req: Authenticate) -> dict[str, Any] | None:
    if req.project_id is None and req.project_name is None:
        return None
    if req.project_id is not None:
        project = await identity.get_project(conn, req.project_id)
    else:
        project = await identity.get_project_by_name(conn, req.project_name or "")
    if project is None or not project["enabled"]:
        raise Unauthorized(f"no such project: {req.project_id or req.project_name}")
    return project


async def _token_info(conn: Connection, token: str) -> TokenInfo | None:
    row = await tokens.valid_token(conn, token_hash(token))
    if row is None:
        return None
    user = await identity.get_user(conn, row["user_id"])
    if user is None:
        return None
    project = None
    roles: list[dict[str, Any]] = []
    if row["project_id"] is not None:
        project = await identity.get_project(conn, row["project_id"])
        if project is None or not project["enabled"]:
            return None
        roles = await identity.role_refs(conn, user["id"], project["id"])
        if not roles:
            return None  # every role on the project was removed since the token was issued
    return TokenInfo(
        user=NamedRef(id=user["id"], name=user["name"]),
        project=NamedRef(id=project["id"], name=project["name"]) if project else None,
        roles=tuple(NamedRef(id=r["id"], name=r["name"]) for r in roles),
        methods=("password",),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        audit_ids=(audit_id(row["id"]),),
    )
