"""Versioned SQL migrations: `conductor/migrations/NNNN_name.sql`, applied in order.

`upgrade` holds a PostgreSQL advisory lock (so concurrent upgrades apply each migration
once), applies every pending file in its own transaction and records its version, name,
sha256 and time in `schema_migrations`. It refuses to run when a migration already applied
has changed on disk or when the database holds a migration this code does not know.
Migrations that cannot run inside a transaction (CREATE INDEX CONCURRENTLY) are not
supported.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from conductor.db.pool import open_connection
from conductor.db.types import Connection

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# pg_advisory_lock key: the first 8 bytes of sha256("skymesh.schema_migrations"), signed
LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"skymesh.schema_migrations").digest()[:8], "big", signed=True
)

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY CHECK (version > 0),
    name        text NOT NULL,
    checksum    text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL DEFAULT 0
)"""


class MigrationError(Exception):
    """The migrations on disk and in the database disagree; nothing was applied."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    checksum: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True)
class MigrationState:
    version: int
    name: str
    state: Literal["applied", "pending", "changed", "unknown"]
    applied_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in `directory`, by version; a misnamed .sql file is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        data = path.read_bytes()
        migration = Migration(
            version=int(match[1]),
            name=match[2],
            checksum=hashlib.sha256(data).hexdigest(),
            sql=data.decode("utf-8"),
        )
        if migration.version == 0:
            raise MigrationError(f"{path.name}: versions start at 0001")
        if migration.version in found:
            raise MigrationError(
                f"{path.name}: version {migration.version} is used by "
                f"{found[migration.version].label} already"
            )
        found[migration.version] = migration
    return [found[v] for v in sorted(found)]


@asynccontextmanager
async def _connected(dsn_or_conn: str | Connection) -> AsyncIterator[Connection]:
    if isinstance(dsn_or_conn, str):
        async with open_connection(dsn_or_conn, role="conductor-migrate") as conn:
            yield conn
    else:
        yield dsn_or_conn


async def _applied(conn: Connection) -> dict[int, AppliedMigration]:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return {}
    rows = await conn.fetch(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    )
    return {row["version"]: AppliedMigration(**dict(row)) for row in rows}


def _verify(known: list[Migration], applied: dict[int, AppliedMigration]) -> None:
    by_version = {m.version: m for m in known}
    for version, done in applied.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d}_{done.name}, which this code "
                "does not know: is an older skymesh running against a newer schema?"
            )
        if migration.checksum != done.checksum:
            raise MigrationError(
                f"migration {migration.label} was applied with sha256 {done.checksum} but "
                f"the file now has {migration.checksum}: applied migrations must never "
                "change; restore the file and add a new migration instead"
            )


async def _apply(conn: Connection, migration: Migration) -> None:
    started = time.monotonic()
    async with conn.transaction():
        await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum, duration_ms) "
            "VALUES ($1, $2, $3, $4)",
            migration.version,
            migration.name,
            migration.checksum,
            int((time.monotonic() - started) * 1000),
        )
    log.info("applied migration %s", migration.label, extra={"migration": migration.label})


async def upgrade(
    dsn_or_conn: str | Connection, *, directory: Path = MIGRATIONS_DIR
) -> list[Migration]:
    """Apply every pending migration; the ones applied now, in order ([] when up to date)."""
    known = discover(directory)
    async with _connected(dsn_or_conn) as conn:
        if conn.is_in_transaction():
            raise MigrationError("run migrations outside a transaction")
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(_CREATE_TABLE)
            applied = await _applied(conn)
            _verify(known, applied)
            done: list[Migration] = []
            for migration in known:
                if migration.version not in applied:
                    await _apply(conn, migration)
                    done.append(migration)
            return done
        finally:
            if not conn.is_closed():
                await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def status(
    dsn_or_conn: str | Connection, *, directory: Path = MIGRATIONS_DIR
) -> list[MigrationState]:
    """Every migration known on disk or in the database, with its state, by version."""
    known = {m.version: m for m in discover(directory)}
    async with _connected(dsn_or_conn) as conn:
        applied = await _applied(conn)
    states: list[MigrationState] = []
    for version in sorted(known.keys() | applied.keys()):
        migration, done = known.get(version), applied.get(version)
        if done is None:
            assert migration is not None
            states.append(MigrationState(version, migration.name, "pending"))
        elif migration is None:
            states.append(MigrationState(version, done.name, "unknown", done.applied_at))
        else:
            state: Literal["applied", "changed"] = (
                "applied" if migration.checksum == done.checksum else "changed"
            )
            states.append(MigrationState(version, done.name, state, done.applied_at))
    return states
