"""The orphan domain of the broker drop (test_broker_drop.py), without the mesh: a build
attempt's Spawn that nothing destroys once the instance has moved on.

The drop loses scheduler requests, so many builds time out in `scheduling` at once and
the deadline sweep reschedules them. A build answered by the scheduler at that moment
is blocked on the instance row by the sweep's transaction; once the sweep commits, it
puts the instance on a host and sends the Spawn there, and only then does the sweep's
reschedule run. The reschedule used to reset that instance to no host and schedule it
again: the first host's domain belonged to nobody (`domain.orphan`), whether the
instance was then placed elsewhere or deleted (a delete without a host sends no
Destroy). Conductor workflows on real PostgreSQL, with the stand-in scheduler and agents
of tests/functional/conductor/conftest.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from conductor import lifecycle
from conductor.build import Builds
from conductor.db.queries import facts, instances
from corebus.client import Client
from schemas.messages.conductor_servers import CreateServer, CreateServerReply
from schemas.messages.facts import InstanceSpawned
from tests.functional.conductor.conftest import Mesh, mesh, workflow_dsn  # noqa: F401

pytestmark = pytest.mark.functional


async def create(mesh: Mesh) -> uuid.UUID:  # noqa: F811
    request = CreateServer(
        name="vm", flavor_id=mesh.flavor_id, image_id=mesh.image_id, networks="none"
    )
    reply = await mesh.client.call("conductor.create_server", request, CreateServerReply)
    return reply.server_ids[0]


async def spawning(mesh: Mesh) -> tuple[uuid.UUID, str]:  # noqa: F811
    """A server whose Spawn went to its host and is not answered (yet)."""
    for agent in mesh.agents.values():
        agent.silent = True
    server = await create(mesh)
    row = await mesh.wait_for(server, lambda r: r["task_state"] == "spawning")
    return server, row["host"]


async def test_a_timeout_seen_before_the_build_placed_it_does_not_reschedule(
    mesh: Mesh,  # noqa: F811
    tmp_path: Path,
) -> None:
    server, host = await spawning(mesh)
    builds = Builds(
        mesh.pool,
        Client(mesh.bus),
        max_attempts=3,
        schedule_timeout_s=5,
        spawn_timeout_s=1.5,
        image_dir=tmp_path,
    )
    # the sweep's view: timed out in scheduling, no host (it read the row just before)
    await builds.reschedule(server, None, "timed out in task state scheduling", None)
    await builds.drain()
    row = await mesh.instance(server)
    assert (row["host"], row["task_state"], row["attempts"]) == (host, "spawning", 0)


async def test_a_spawn_after_the_reschedule_from_its_host_is_destroyed(
    mesh: Mesh,  # noqa: F811
) -> None:
    server, host = await spawning(mesh)
    async with mesh.pool.acquire() as conn:  # rescheduled from `host`, not placed again yet
        await instances.update_state(
            conn,
            server,
            host=None,
            node=None,
            task_state="scheduling",
            task_deadline=lifecycle.deadline_in(60),
        )
    agent = mesh.agents[host]
    agent.silent = False
    await agent.report(InstanceSpawned, server)  # its Spawn ran late after all
    spawned_seq = agent._seq
    deadline = time.monotonic() + 5
    while True:  # the Destroy reached that host: it reported the domain deleted
        async with mesh.pool.acquire() as conn:
            seq = await facts.last_seq(conn, "instance", server, host)
        if seq is not None and seq > spawned_seq:
            break
        assert time.monotonic() < deadline, f"no Destroy reached {host} (last seq {seq})"
        await asyncio.sleep(0.02)
    row = await mesh.instance(server)
    assert (row["host"], row["task_state"]) == (None, "scheduling")
