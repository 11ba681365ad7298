"""The whole mesh as separate processes (`skymesh up --detach --hypervisor fake`) on a
database and a vhost of its own, driven as a user would: through the AMQP API."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from conductor.db.admin import drop_database
from corebus.amqp.admin import create_vhost, delete_vhost, vhost_of, with_vhost
from corebus.netports import free_port
from tests.conftest import run_sync
from tests.functional.mesh.deployment import Deployment


@pytest.fixture(scope="module")
def deployment(
    pg_dsn: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    suffix = uuid.uuid4().hex[:6]
    dsn = f"{pg_dsn}_mesh{suffix}"
    vhost = f"{vhost_of(amqp_url)}_mesh{suffix}"
    url = with_vhost(amqp_url, vhost)
    run_sync(create_vhost(vhost))
    home = tmp_path_factory.mktemp("mesh")
    env = {
        **os.environ,
        "SKYMESH_HOME": str(home),
        "SKYMESH_DATABASE__DSN": dsn,
        "SKYMESH_AMQP__URL": url,
        "SKYMESH_CONDUCTOR__SPAWN_TIMEOUT_S": "20",
        "SKYMESH_GATEWAY__PORT": str(free_port()),
    }
    env.pop("SKYMESH_CONFIG", None)
    mesh = Deployment(env, dsn, url, home)
    try:
        code, out = run_sync(
            mesh.skymesh("up", "--detach", "--hypervisor", "fake", "--conductors", "2", timeout=240)
        )
        assert code == 0, out
        yield Deployment(env, dsn, url, home, out)
    finally:
        code, out = run_sync(mesh.skymesh("down"))
        run_sync(drop_database(dsn))
        run_sync(delete_vhost(vhost))
    assert code == 0, out


@pytest.fixture
async def api(deployment: Deployment) -> AsyncIterator[Any]:
    from corebus.api_client import ApiClient

    async with ApiClient(deployment.amqp_url) as client:
        yield client
