"""Fixtures of the gateway's functional tests: `cloud` (see cloud.py) on a database
per test module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from tests.functional.gateway.cloud import Cloud, running_cloud


@pytest.fixture(scope="module")
def cloud_dsn(pg_dsn: str) -> Iterator[str]:
    from tests.conftest import run_sync

    dsn = f"{pg_dsn}_gw{uuid.uuid4().hex[:6]}"
    run_sync(create_database(dsn))
    run_sync(upgrade(dsn))
    yield dsn
    run_sync(drop_database(dsn))


@pytest.fixture
async def cloud(
    cloud_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cloud]:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    async with running_cloud(cloud_dsn, tmp_path) as running:
        yield running
