"""Fixtures of the fuzz tests: the in-process cloud of the gateway tests run in a
thread of its own (schemathesis drives it with blocking HTTP calls)."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from tests.functional.gateway.cloud import Cloud, running_cloud

# the gateway tests' per-test cloud, for the explicit bad-request tests
from tests.functional.gateway.conftest import cloud, cloud_dsn  # noqa: F401


class ThreadedCloud:
    """`running_cloud` on an event loop in a background thread."""

    def __init__(self, dsn: str, home: Path) -> None:
        self.dsn, self.home = dsn, home
        self.loop = asyncio.new_event_loop()
        self.cloud: Cloud | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fuzz-cloud", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with running_cloud(self.dsn, self.home) as running:
            self.cloud = running
            self._ready.set()
            await self._stop.wait()

    def start(self) -> Cloud:
        self._thread.start()
        self._ready.wait(120)
        if self._error is not None or self.cloud is None:
            raise RuntimeError(f"the cloud did not start: {self._error!r}")
        return self.cloud

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the cloud's loop (its pool and bus live there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)


@pytest.fixture(scope="module")
def threaded_cloud(
    pg_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedCloud]:
    from tests.conftest import run_sync

    dsn = f"{pg_dsn}_fz{uuid.uuid4().hex[:6]}"
    run_sync(create_database(dsn))
    run_sync(upgrade(dsn))
    home = tmp_path_factory.mktemp("fuzz-cloud")
    before = os.environ.get("SKYMESH_HOME")
    os.environ["SKYMESH_HOME"] = str(home)  # the gateway's image store lives there
    running = ThreadedCloud(dsn, home)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        run_sync(drop_database(dsn))
        if before is None:
            os.environ.pop("SKYMESH_HOME", None)
        else:
            os.environ["SKYMESH_HOME"] = before
