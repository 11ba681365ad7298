"""Migrations against a real PostgreSQL: create, re-run, tamper, race."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from conductor.db import migrate
from conductor.db.pool import open_connection

pytestmark = pytest.mark.functional

EXPECTED_TABLES = {
    "schema_migrations",
    # identity and quotas
    "projects",
    "users",
    "roles",
    "role_assignments",
    "tokens",
    "quota_defaults",
    "quotas",
    "quota_usages",
    "quota_reservations",
    # catalog
    "flavors",
    "flavor_extra_specs",
    "flavor_projects",
    "images",
    "image_members",
    # hosts and placement
    "hosts",
    "aggregates",
    "aggregate_hosts",
    "host_traits",
    "host_changes",
    "host_change_horizon",
    "resource_providers",
    "inventories",
    "allocations",
    "pci_devices",
    "numa_cells",
    "numa_pinned_cpus",
    "numa_instance_cells",
    # instances
    "instances",
    "instance_metadata",
    "instance_tags",
    "instance_actions",
    "instance_action_events",
    "instance_faults",
    "keypairs",
    "server_groups",
    "server_group_members",
    "migrations",
    # networking
    "networks",
    "subnets",
    "ports",
    "port_security_groups",
    "ip_allocations",
    "security_groups",
    "security_group_rules",
    "routers",
    "router_interfaces",
    "floating_ips",
    # block storage
    "volumes",
    "volume_attachments",
    # conductor bookkeeping
    "outbox",
    "notification_sequence",
    "fact_sequences",
    "idempotency_keys",
    "workflows",
}


async def tables(dsn: str) -> set[str]:
    async with open_connection(dsn) as conn:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


def copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, directory)
    return directory


def next_label(name: str) -> str:
    """The label a migration added after the shipped ones would have."""
    return f"{max(m.version for m in migrate.discover()) + 1:04d}_{name}"


def shipped(state: str) -> dict[str, str]:
    return {m.label: state for m in migrate.discover()}


async def test_upgrade_from_empty_creates_every_table(empty_dsn: str) -> None:
    applied = await migrate.upgrade(empty_dsn)

    assert [m.label for m in applied] == [m.label for m in migrate.discover()]
    assert applied[0].label == "0001_initial"
    assert await tables(empty_dsn) == EXPECTED_TABLES
    states = await migrate.status(empty_dsn)
    assert {s.state for s in states} == {"applied"}
    assert all(s.applied_at is not None for s in states)


async def test_status_of_an_empty_database_lists_everything_pending(empty_dsn: str) -> None:
    states = await migrate.status(empty_dsn)

    assert [s.label for s in states] == [m.label for m in migrate.discover()]
    assert {s.state for s in states} == {"pending"}
    assert await tables(empty_dsn) == set()


async def test_rerun_applies_nothing(empty_dsn: str) -> None:
    await migrate.upgrade(empty_dsn)

    assert await migrate.upgrade(empty_dsn) == []
    async with open_connection(empty_dsn) as conn:
        count = await conn.fetchval("SELECT count(*) FROM schema_migrations")
    assert count == len(migrate.discover())


async def test_checksum_recorded_is_the_files_sha256(empty_dsn: str) -> None:
    await migrate.upgrade(empty_dsn)

    async with open_connection(empty_dsn) as conn:
        recorded = await conn.fetchval("SELECT checksum FROM schema_migrations WHERE version = 1")
    assert recorded == migrate.discover()[0].checksum
    assert len(recorded) == 64


async def test_tampered_checksum_is_refused(empty_dsn: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    await migrate.upgrade(empty_dsn, directory=directory)
    initial = directory / "0001_initial.sql"
    initial.write_text(initial.read_text() + "\n-- an innocent-looking edit\n")
    (directory / f"{next_label('more')}.sql").write_text("CREATE TABLE must_not_exist (id int);")

    with pytest.raises(migrate.MigrationError, match=r"0001_initial.*must never change"):
        await migrate.upgrade(empty_dsn, directory=directory)

    assert "must_not_exist" not in await tables(empty_dsn)
    states = {s.label: s.state for s in await migrate.status(empty_dsn, directory=directory)}
    assert states == {
        **shipped("applied"),
        "0001_initial": "changed",
        next_label("more"): "pending",
    }


async def test_unknown_applied_migration_is_refused(empty_dsn: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    extra = directory / f"{next_label('newer')}.sql"
    extra.write_text("CREATE TABLE newer (id int);")
    await migrate.upgrade(empty_dsn, directory=directory)
    extra.unlink()

    with pytest.raises(migrate.MigrationError, match=rf"{next_label('newer')}.*does not know"):
        await migrate.upgrade(empty_dsn, directory=directory)
    states = {s.label: s.state for s in await migrate.status(empty_dsn, directory=directory)}
    assert states[next_label("newer")] == "unknown"


async def test_new_migration_is_applied_alone(empty_dsn: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    await migrate.upgrade(empty_dsn, directory=directory)
    (directory / f"{next_label('widgets')}.sql").write_text(
        "CREATE TABLE widgets (id int PRIMARY KEY);"
    )

    applied = await migrate.upgrade(empty_dsn, directory=directory)

    assert [m.label for m in applied] == [next_label("widgets")]
    assert "widgets" in await tables(empty_dsn)


async def test_each_migration_runs_in_its_own_transaction(empty_dsn: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / f"{next_label('half')}.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();"
    )

    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate.upgrade(empty_dsn, directory=directory)

    present = await tables(empty_dsn)
    assert "instances" in present  # the shipped migrations committed
    assert "half_done" not in present  # the failing one rolled back entirely
    states = {s.label: s.state for s in await migrate.status(empty_dsn, directory=directory)}
    assert states == {**shipped("applied"), next_label("half"): "pending"}


async def test_concurrent_upgrades_apply_each_migration_once(empty_dsn: str) -> None:
    results = await asyncio.gather(*(migrate.upgrade(empty_dsn) for _ in range(4)))

    labels = [m.label for result in results for m in result]
    assert sorted(labels) == sorted(m.label for m in migrate.discover())
    assert sum(1 for result in results if result) == 1
    async with open_connection(empty_dsn) as conn:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(labels)


async def test_upgrade_accepts_an_open_connection(empty_dsn: str) -> None:
    async with open_connection(empty_dsn) as conn:
        applied = await migrate.upgrade(conn)
        assert applied
        async with conn.transaction():
            with pytest.raises(migrate.MigrationError, match="outside a transaction"):
                await migrate.upgrade(conn)
        # the advisory lock was released: another session can take it at once
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", migrate.LOCK_KEY)
        await conn.execute("SELECT pg_advisory_unlock($1)", migrate.LOCK_KEY)


def test_misnamed_or_duplicate_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(migrate.MigrationError, match=r"NNNN_name\.sql"):
        migrate.discover(tmp_path)

    (tmp_path / "1_bad.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(migrate.MigrationError, match="used by 0001_a"):
        migrate.discover(tmp_path)
