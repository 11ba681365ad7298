"""One mesh per chaos test (2 conductors, a scheduler, 3 computes, a network and a storage
agent on fake drivers) on a database and a vhost of its own (tests/functional/chaos/mesh.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.chaos.mesh import ChaosMesh, mesh_of


@pytest.fixture
def chaos_mesh(
    pg_dsn: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosMesh]:
    with mesh_of(pg_dsn, amqp_url, tmp_path_factory.mktemp("chaos"), "chaos") as mesh:
        yield mesh


@pytest.fixture
def audited_chaos_mesh(
    pg_dsn: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosMesh]:
    """The same mesh with the conductors' periodic audit repairing every 5 s."""
    repair = {
        "SKYMESH_CONDUCTOR__AUDIT_INTERVAL_S": "5",
        "SKYMESH_CONDUCTOR__AUDIT_REPAIR": "true",
    }
    home = tmp_path_factory.mktemp("chaos")
    with mesh_of(pg_dsn, amqp_url, home, "chaos", 2, repair) as mesh:
        yield mesh
