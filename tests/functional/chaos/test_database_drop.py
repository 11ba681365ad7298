"""Chaos (e): pg_terminate_backend on the conductors' connections to this test's
database mid-burst; the pools reconnect, interrupted transactions are retried."""

from __future__ import annotations

import pytest

from tests.functional.chaos.burst import CONVERGENCE_BOUND_S, run_burst
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.chaos]


async def test_terminate_the_conductors_database_connections(chaos_mesh: ChaosMesh) -> None:
    terminated: list[int] = []

    async def fault() -> None:
        terminated.append(await chaos_mesh.terminate_conductor_backends())

    outcome = await run_burst(chaos_mesh, "database-drop", fault)
    assert terminated and terminated[0] >= 2, terminated
    assert outcome.problems == [], outcome.problems
    assert outcome.convergence_s < CONVERGENCE_BOUND_S
