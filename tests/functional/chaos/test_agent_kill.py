"""Chaos (c): kill -9 a compute agent mid-burst and start it again; its domains outlive
it (the fake hypervisor keeps them in its state file, as libvirt would)."""

from __future__ import annotations

import pytest

from tests.functional.chaos.burst import CONVERGENCE_BOUND_S, run_burst
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.chaos]


async def test_kill_and_restart_a_compute_agent(chaos_mesh: ChaosMesh) -> None:
    async def fault() -> None:
        await chaos_mesh.kill9("compute-1")
        await chaos_mesh.restart("compute-1")

    outcome = await run_burst(chaos_mesh, "agent-kill", fault)
    assert outcome.problems == [], outcome.problems
    assert outcome.convergence_s < CONVERGENCE_BOUND_S
