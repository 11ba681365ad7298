"""The whole mesh as separate processes (`skymesh up --detach --hypervisor fake`) on a
database and a vhost of its own, driven as a user would: through the AMQP API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.functional.mesh.deployment import Deployment, deployed


@pytest.fixture(scope="module")
def deployment(
    pg_dsn: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("mesh")
    up = ("--hypervisor", "fake", "--conductors", "2")
    settings = {"SKYMESH_CONDUCTOR__SPAWN_TIMEOUT_S": "20"}
    with deployed(Deployment, pg_dsn, amqp_url, home, "mesh", up, settings) as mesh:
        yield mesh


@pytest.fixture
async def api(deployment: Deployment) -> AsyncIterator[Any]:
    from corebus.api_client import ApiClient

    async with ApiClient(deployment.amqp_url) as client:
        yield client
