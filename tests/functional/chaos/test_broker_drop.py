"""Chaos (d): close every RabbitMQ connection of the test's own vhost mid-burst (the
processes', and the test client's: it resends with the same idempotency keys).

Known gap: in about one run in three, one domain stays behind on a host after the
drop (a spawn and a destroy crossing during the reconnects). The fact path does not
catch it yet. The conductors' periodic audit does, and in this mesh it repairs every
5 s, as an operator would run it (docs/reliability.md)."""

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
