"""The conductor's key pair API: a user's public keys, counted against the `key_pairs`
quota of the caller's project (per user, as Nova counts them)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from conductor.compute_admin_keys import fingerprint
from conductor.db.queries import admin_keypairs, admin_quotas
from conductor.db.queries.quotas import UNLIMITED
from conductor.records import model_from_row
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.compute_admin import KeyPair
from schemas.errors import Conflict, Forbidden, InvalidInput, NotFound, QuotaExceeded
from schemas.messages.conductor_compute_admin import (
    CreateKeyPair,
    DeleteKeyPair,
    GetKeyPair,
    KeyPairReply,
    KeyPairsReply,
    ListKeyPairs,
)


def owner(ctx: RequestContext, user_id: UUID | None) -> UUID:
    """Whose key pairs a call is about: the caller's own, or any user's for an admin."""
    if ctx.user_id is None:
        raise Forbidden("this request needs a user")
    if user_id is None or user_id == ctx.user_id:
        return ctx.user_id
    if not ctx.is_admin:
        raise Forbidden("Policy doesn't allow acting on another user's key pairs.")
    return user_id


def _missing(name: str) -> NotFound:
    return NotFound(f"Keypair {name} not found.")


class KeyPairAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def list_keypairs(self, ctx: RequestContext, req: ListKeyPairs) -> KeyPairsReply:
        user_id = owner(ctx, req.user_id)
        async with self._pool.acquire() as conn:
            if req.marker is not None and not await admin_keypairs.get_keypair(
                conn, user_id, req.marker
            ):
                raise InvalidInput(f"marker [{req.marker}] not found")
            rows = await admin_keypairs.list_keypairs(
                conn, user_id, marker=req.marker, limit=req.limit
            )
        return KeyPairsReply(keypairs=tuple(model_from_row(KeyPair, row) for row in rows))

    @rpc
    async def get_keypair(self, ctx: RequestContext, req: GetKeyPair) -> KeyPairReply:
        user_id = owner(ctx, req.user_id)
        async with self._pool.acquire() as conn:
            row = await admin_keypairs.get_keypair(conn, user_id, req.name)
        if row is None:
            raise _missing(req.name)
        return KeyPairReply(keypair=model_from_row(KeyPair, row))

    @rpc
    async def create_keypair(self, ctx: RequestContext, req: CreateKeyPair) -> KeyPairReply:
        user_id = owner(ctx, req.user_id)
        print_ = fingerprint(req.public_key, req.type)
        async with self._pool.acquire() as conn, conn.transaction():
            if not await admin_keypairs.user_exists(conn, user_id):
                raise NotFound(f"User {user_id} could not be found.")
            limit = await admin_quotas.limit_of(conn, ctx.project_id, "key_pairs")
            count = await admin_keypairs.count_locked(conn, user_id)
            if limit != UNLIMITED and count + 1 > limit:
                raise QuotaExceeded("Quota exceeded, too many key pairs.", resource="key_pairs")
            try:
                row = await admin_keypairs.insert_keypair(
                    conn, user_id, req.name, req.type.value, req.public_key.strip(), print_
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(f"Key pair '{req.name}' already exists.") from None
        return KeyPairReply(keypair=model_from_row(KeyPair, row))

    @rpc
    async def delete_keypair(self, ctx: RequestContext, req: DeleteKeyPair) -> None:
        user_id = owner(ctx, req.user_id)
        async with self._pool.acquire() as conn:
            if not await admin_keypairs.delete_keypair(conn, user_id, req.name):
                raise _missing(req.name)
