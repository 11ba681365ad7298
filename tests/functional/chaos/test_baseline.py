"""The same burst with no fault: the reference the faults' convergence times compare with
(the time from the 60th accepted create until everything is final and consistent)."""

from __future__ import annotations

import pytest

from tests.functional.chaos.burst import CONVERGENCE_BOUND_S, run_burst
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.chaos]


async def test_the_burst_without_a_fault(chaos_mesh: ChaosMesh) -> None:
    async def nothing() -> None:
        return None

    outcome = await run_burst(chaos_mesh, "none", nothing)
    assert outcome.problems == [], outcome.problems
    assert outcome.active == 100 and outcome.errors == 0
    assert outcome.convergence_s < CONVERGENCE_BOUND_S
