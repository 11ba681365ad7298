"""Per-run isolation: every run gets its own PostgreSQL database and RabbitMQ vhost,
named from the run (and the xdist worker), and drops them at the end."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

RUN_ID = os.environ.setdefault("SKYMESH_TEST_RUN", f"{int(time.time())}{os.getpid()}")
PG_SERVER = os.environ.get("SKYMESH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP_SERVER = os.environ.get("SKYMESH_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def run_name(kind: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"skymesh_{kind}_{RUN_ID}_{worker}"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A fresh database for this run; dropped at the end."""
    from conductor.db.admin import create_database, drop_database

    dsn = f"{PG_SERVER}/{run_name('db')}"
    run_sync(create_database(dsn))
    try:
        yield dsn
    finally:
        run_sync(drop_database(dsn))


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A fresh RabbitMQ vhost for this run; deleted at the end."""
    from corebus.amqp.admin import create_vhost, delete_vhost, with_vhost

    vhost = run_name("vh")
    run_sync(create_vhost(vhost))
    try:
        yield with_vhost(AMQP_SERVER, vhost)
    finally:
        run_sync(delete_vhost(vhost))
