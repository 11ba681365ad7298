"""Chaos (b): kill -9 the scheduler mid-burst and start it again."""

from __future__ import annotations

import pytest

from tests.functional.chaos.burst import CONVERGENCE_BOUND_S, run_burst
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.chaos]


async def test_kill_and_restart_the_scheduler(chaos_mesh: ChaosMesh) -> None:
    async def fault() -> None:
        await chaos_mesh.kill9("scheduler")
        await chaos_mesh.restart("scheduler")

    outcome = await run_burst(chaos_mesh, "scheduler-kill", fault)
    assert outcome.problems == [], outcome.problems
    assert outcome.convergence_s < CONVERGENCE_BOUND_S
