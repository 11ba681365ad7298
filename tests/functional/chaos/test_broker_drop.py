"""Chaos (d): close every RabbitMQ connection of the test's own vhost mid-burst (the
processes', and the test client's: it resends with the same idempotency keys).

The mesh runs the conductors' periodic audit repairing every 5 s, as an operator would.
The orphan domain the drop used to leave (a late reschedule; docs/reliability.md) is
fixed at its cause and covered without the mesh by test_reschedule_race.py."""

from __future__ import annotations

import pytest

from tests.functional.chaos.burst import CONVERGENCE_BOUND_S, run_burst
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.chaos]


async def test_close_every_connection_of_the_vhost(audited_chaos_mesh: ChaosMesh) -> None:
    chaos_mesh = audited_chaos_mesh
    closed: list[int] = []

    async def fault() -> None:
        closed.append(await chaos_mesh.close_connections())

    outcome = await run_burst(chaos_mesh, "broker-drop", fault)
    assert closed and closed[0] >= 8, closed  # 2 conductors, scheduler, gateway, 5 agents
    assert outcome.problems == [], outcome.problems
    assert outcome.convergence_s < CONVERGENCE_BOUND_S
