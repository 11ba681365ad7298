"""The conductor's asyncpg pool: JSON codecs (orjson) and `application_name` on every
connection, opened and closed as an async context manager."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from corebus.config import DatabaseSettings

DEFAULT_ROLE = "conductor"
_JSONB_VERSION = b"\x01"  # jsonb's binary wire format starts with a version byte


def application_name(role: str) -> str:
    """The `application_name` a process of `role` shows in pg_stat_activity."""
    return role if role.startswith("skymesh-") else f"skymesh-{role}"


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + orjson.dumps(value)


def _decode_jsonb(data: bytes) -> Any:
    if data[:1] != _JSONB_VERSION:
        raise ValueError(f"unsupported jsonb format version {data[:1]!r}")
    return orjson.loads(data[1:])


async def setup_connection(conn: Any) -> None:
    """Per-connection setup: json and jsonb exchanged as Python values through orjson."""
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        format="binary",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
    )
    await conn.set_type_codec(
        "json",
        schema="pg_catalog",
        format="binary",
        encoder=orjson.dumps,
        decoder=orjson.loads,
    )


def _server_settings(role: str) -> dict[str, str]:
    return {"application_name": application_name(role)}


async def _reset(conn: Any) -> None:
    """On release: asyncpg's default reset runs `RESET ALL; UNLISTEN *; ...` on every
    release, a round trip each time. skymesh leaves no session state behind (no LISTEN,
    no SET, advisory locks are released by their holder), so only an unfinished
    transaction is rolled back, and the common release costs nothing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


@asynccontextmanager
async def open_pool(
    settings: DatabaseSettings, *, role: str = DEFAULT_ROLE
) -> AsyncIterator[asyncpg.Pool]:
    """An asyncpg pool sized and timed by `settings`, closed on exit."""
    pool = await asyncpg.create_pool(
        settings.dsn,
        min_size=min(settings.pool_min, settings.pool_max),
        max_size=settings.pool_max,
        command_timeout=settings.command_timeout_s,
        server_settings=_server_settings(role),
        init=setup_connection,
        reset=_reset,
    )
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def open_connection(
    dsn: str, *, role: str = DEFAULT_ROLE, command_timeout: float | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """One connection set up like the pool's (for the CLI, migrations, tests)."""
    conn = await asyncpg.connect(
        dsn, server_settings=_server_settings(role), command_timeout=command_timeout
    )
    try:
        await setup_connection(conn)
        yield conn
    finally:
        await conn.close()
