"""Create and drop whole databases (used by `skymesh up`, `down --purge` and the tests)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


def split_dsn(dsn: str) -> tuple[str, str]:
    """(server DSN pointing at the `postgres` maintenance database, database name)."""
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path="/postgres")), name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database(dsn: str) -> bool:
    """Create the database named in `dsn` if it is missing; True when it was created."""
    server, name = split_dsn(dsn)
    conn = await asyncpg.connect(server)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f"CREATE DATABASE {_quote(name)}")
        return True
    finally:
        await conn.close()


async def drop_database(dsn: str) -> None:
    """Drop the database named in `dsn`, disconnecting whoever still uses it."""
    server, name = split_dsn(dsn)
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def terminate_connections(dsn: str, application_name: str | None = None) -> int:
    """pg_terminate_backend every connection to the database in `dsn` (optionally one app's)."""
    server, name = split_dsn(dsn)
    conn = await asyncpg.connect(server)
    try:
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()"
        )
        args: list[str] = [name]
        if application_name is not None:
            query += " AND application_name = $2"
            args.append(application_name)
        return int(await conn.fetchval(query, *args))
    finally:
        await conn.close()
