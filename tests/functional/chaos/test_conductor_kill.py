"""Chaos (a): kill -9 one of the two conductors mid-burst; the other carries on alone
(its builds, its API commands and its relay leadership are taken over)."""

from __future__ import annotations

import pytest

from tests.functional.chaos.burst import CONVERGENCE_BOUND_S, run_burst
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.chaos]


async def test_kill_one_of_two_conductors(chaos_mesh: ChaosMesh) -> None:
    outcome = await run_burst(chaos_mesh, "conductor-kill", lambda: chaos_mesh.kill9("conductor"))
    assert outcome.problems == [], outcome.problems
    assert outcome.convergence_s < CONVERGENCE_BOUND_S
