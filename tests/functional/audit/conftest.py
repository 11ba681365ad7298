"""One mesh for the audit tests (`skymesh up --detach --hypervisor fake`, one conductor
whose periodic audit runs every few seconds) on a database and a vhost of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.functional.chaos.mesh import ChaosMesh, mesh_of


@pytest.fixture(scope="module")
def audit_mesh(
    pg_dsn: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosMesh]:
    home = tmp_path_factory.mktemp("audit")
    periodic = {"SKYMESH_CONDUCTOR__AUDIT_INTERVAL_S": "3"}
    with mesh_of(pg_dsn, amqp_url, home, "audit", 1, periodic) as mesh:
        yield mesh


@pytest.fixture
async def api(audit_mesh: ChaosMesh) -> AsyncIterator[Any]:
    from corebus.api_client import ApiClient

    async with ApiClient(audit_mesh.amqp_url) as client:
        yield client
