"""One mesh for the idempotency tests (one conductor, a long scheduling deadline so a
resumed build is told apart from one the deadline sweep retried) on a database and a
vhost of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.functional.chaos.mesh import ChaosMesh, mesh_of


@pytest.fixture(scope="module")
def idem_mesh(
    pg_dsn: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosMesh]:
    home = tmp_path_factory.mktemp("idem")
    slow_sweep = {"SKYMESH_CONDUCTOR__SCHEDULE_TIMEOUT_S": "90"}
    with mesh_of(pg_dsn, amqp_url, home, "idem", 1, slow_sweep) as mesh:
        yield mesh


@pytest.fixture
async def api(idem_mesh: ChaosMesh) -> AsyncIterator[Any]:
    from corebus.api_client import ApiClient

    async with ApiClient(idem_mesh.amqp_url) as client:
        yield client
