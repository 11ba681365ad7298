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

The late scheduler answer: a build's scheduler claims a host (A) and answers late, after
the sweep rescheduled the instance (a scheduling timeout: no host, so the reschedule
applies) and the next attempt claimed another host (B). The late attempt's update used
to expect only `scheduling`, which the rescheduled row is again: it placed the instance
on A and sent the Spawn there while the allocation was on B; answered after the next
attempt had made the instance ACTIVE, it gave "its" claim back, which was B's. Run with
the real scheduler and apply_plan (tests/functional/conductor/placed.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from conductor import lifecycle
from conductor.build import Builds
from conductor.db.queries import facts, instances
from corebus.client import Client
from corebus.envelope import RequestContext
from scheduler.service import Scheduler
from schemas.errors import Conflict
from schemas.messages.conductor_servers import CreateServer, CreateServerReply
from schemas.messages.facts import InstanceSpawned
from schemas.messages.scheduler import RequestSpec
from tests.functional.conductor.conftest import Mesh, mesh, workflow_dsn  # noqa: F401
from tests.functional.conductor.placed import Placed, placed  # noqa: F401

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


class LateFirstAnswer:
    """The real scheduler, except that its first request claims a host at once (apply_plan
    commits) and answers only when `answer` is set; later requests are steered off that
    host (the scheduler chose another one), and `between` runs after their claim and
    before their answer. Requests from other zones (builds of earlier tests, resumed by
    this mesh: the database is the module's) are answered as they are."""

    def __init__(self, p: Placed, monkeypatch: pytest.MonkeyPatch) -> None:
        scheduler: Scheduler = p.mesh.scheduler  # type: ignore[assignment]
        self.zone = p.zone
        self.plan_and_apply = scheduler._plan_and_apply
        self.claimed = asyncio.Event()
        self.answer = asyncio.Event()
        self.fail: Exception | None = None  # the first request's error instead of its answer
        self.first_host = ""
        self.chosen: list[str] = []
        self.between: Callable[[], Awaitable[None]] | None = None
        self.third_waits_for: asyncio.Task[Any] | None = None  # the second attempt's build
        monkeypatch.setattr(scheduler, "_plan_and_apply", self)

    async def __call__(self, ctx: RequestContext, spec: RequestSpec, *args: Any) -> tuple[Any, Any]:
        if spec.availability_zone != self.zone:
            return await self.plan_and_apply(ctx, spec, *args)
        if not self.claimed.is_set():
            reply, planned = await self.plan_and_apply(ctx, spec, *args)
            self.first_host = planned[0].primary.host.name
            self.chosen.append(self.first_host)
            self.claimed.set()
            await self.answer.wait()
            if self.fail is not None:
                raise self.fail
            return reply, planned
        if len(self.chosen) >= 2 and self.third_waits_for is not None:
            await asyncio.wait({self.third_waits_for}, timeout=5)
        ignore = spec.ignore_hosts | set(self.chosen)  # each attempt on a host of its own
        steered = spec.model_copy(update={"ignore_hosts": ignore})
        reply, planned = await self.plan_and_apply(ctx, steered, *args)
        self.chosen.append(planned[0].primary.host.name)
        between, self.between = self.between, None
        if between is not None:
            await between()
        return reply, planned


async def rescheduled_while_answering(
    p: Placed,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    between: Callable[[asyncio.Task[Any], LateFirstAnswer], Awaitable[None]] | None = None,
    *,
    here: bool = False,
) -> tuple[uuid.UUID, LateFirstAnswer, asyncio.Task[Any], Builds]:
    """A server whose first build's scheduler claimed a host and has not answered yet,
    rescheduled by the sweep's scheduling timeout, by the conductor running that build
    (`here`) or by another one: (server, the scheduler stand-in, the first build's task,
    the Builds running the next attempt)."""
    gate = LateFirstAnswer(p, monkeypatch)
    server = await p.create()
    await asyncio.wait_for(gate.claimed.wait(), 5)
    (first,) = [t for t in asyncio.all_tasks() if t.get_name() == f"build-{server}"]
    assert await p.held(server) == {gate.first_host: CLAIM}
    if between is not None:
        gate.between = lambda: between(first, gate)
    builds: Builds = first.get_coro().cr_frame.f_locals["self"]  # type: ignore[union-attr]
    if not here:
        builds = Builds(
            p.mesh.pool,
            Client(p.mesh.bus),
            max_attempts=3,
            schedule_timeout_s=5,
            spawn_timeout_s=1.5,
            image_dir=tmp_path,
        )
    # what the sweep does when the scheduling deadline passes: no host, so it applies
    await builds.reschedule(server, None, "timed out in task state scheduling", None)
    return server, gate, first, builds


CLAIM = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}  # the mesh's small flavor


async def test_a_late_answer_of_a_rescheduled_attempt_does_not_place_it(
    placed: Placed,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    async def first_answers(first: asyncio.Task[Any], gate: LateFirstAnswer) -> None:
        gate.answer.set()  # the late answer lands between the next attempt's claim and update
        await asyncio.wait({first}, timeout=5)

    p = placed
    server, gate, first, builds = await rescheduled_while_answering(
        p, monkeypatch, tmp_path, first_answers
    )
    late_host = gate.first_host
    await builds.drain()
    row = await p.mesh.wait_for(server, lambda r: r["task_state"] is None)
    assert first.done()
    held, spawned = await p.held(server), p.mesh.agents[late_host].spawned
    # ACTIVE where its allocation is, not on the late attempt's host (no Spawn there)
    placed_on = row["host"] if row["host"] != late_host else f"{late_host} (the late one)"
    assert (row["vm_state"], placed_on, held, spawned) == (
        "active",
        row["host"],
        {row["host"]: CLAIM},
        [],
    )


async def test_a_late_answer_after_the_next_attempt_keeps_its_claim(
    placed: Placed,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    p = placed
    server, gate, first, builds = await rescheduled_while_answering(p, monkeypatch, tmp_path)
    await builds.drain()
    row = await p.mesh.wait_for(server, lambda r: r["task_state"] is None)
    assert row["vm_state"] == "active" and row["host"] != gate.first_host
    assert await p.held(server) == {row["host"]: CLAIM}
    gate.answer.set()  # the first attempt's answer, after the next one made it ACTIVE
    await asyncio.wait({first}, timeout=5)
    assert first.done()
    after, held = await p.mesh.instance(server), await p.held(server)
    # still ACTIVE where it was, and its claim not given back by the late attempt
    assert (after["vm_state"], after["host"], held) == ("active", row["host"], {row["host"]: CLAIM})


@pytest.mark.parametrize("here", [False, True], ids=["rescheduled-elsewhere", "rescheduled-here"])
async def test_a_late_failure_of_a_rescheduled_attempt_leaves_the_next_one_alone(
    placed: Placed,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    here: bool,
) -> None:
    """The first attempt's scheduler call fails after the reschedule (its request timed
    out, say): that build ends as failed, which lapses the lease of the build's workflow
    at once so that a conductor resumes it (and, when the next attempt runs in the same
    conductor, stopped renewing that attempt's lease). The workflow is the next
    attempt's by then: a resume would give back that attempt's claim and run a third one
    beside it."""

    async def first_fails(first: asyncio.Task[Any], gate: LateFirstAnswer) -> None:
        gate.fail = Conflict("the first attempt's request failed late")
        gate.answer.set()  # between the next attempt's claim and update
        await asyncio.wait({first}, timeout=5)
        for _ in range(75):  # 1.5 s: the mesh sweeps every 0.2 s, time to resume what lapsed
            if not await p.held(server):
                break  # a resume gave the second attempt's claim back
            await asyncio.sleep(0.02)

    p = placed
    server, gate, first, builds = await rescheduled_while_answering(
        p, monkeypatch, tmp_path, first_fails, here=here
    )
    # a third attempt, if any, asks the scheduler once the second is done
    (gate.third_waits_for,) = builds._running - {first}
    await builds.drain()
    row = await p.mesh.wait_for(server, lambda r: r["task_state"] is None)
    await asyncio.sleep(0.5)  # a third attempt, if one was started, has claimed by now
    assert first.done()
    held = await p.held(server)
    assert (row["vm_state"], gate.chosen[1:], held) == (
        "active",
        [row["host"]],
        {row["host"]: CLAIM},
    )
