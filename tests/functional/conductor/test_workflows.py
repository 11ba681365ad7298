"""The conductor's workflows on real PostgreSQL, with stand-in scheduler and agents."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from conductor.db.queries import instance_actions, quotas
from corebus.envelope import Kind, envelope_for
from schemas.errors import Conflict, NotFound, QuotaExceeded
from schemas.instance_state import PowerState
from schemas.messages.common import Accepted
from schemas.messages.conductor_actions import ServerAction, Start, Stop
from schemas.messages.conductor_servers import (
    CreateServer,
    CreateServerReply,
    DeleteServer,
    GetServer,
    GetServerReply,
)
from schemas.messages.facts import InstancePowerStateChanged, InstanceSpawned
from tests.functional.conductor.conftest import Mesh

pytestmark = pytest.mark.functional


async def create(mesh: Mesh, name: str = "vm", **fields: object) -> uuid.UUID:
    request = CreateServer(
        name=name, flavor_id=mesh.flavor_id, image_id=mesh.image_id, networks="none", **fields
    )  # type: ignore[arg-type]
    reply = await mesh.client.call("conductor.create_server", request, CreateServerReply)
    return reply.server_ids[0]


def active(row: dict) -> bool:  # type: ignore[type-arg]
    return row["vm_state"] == "active" and row["task_state"] is None


async def test_boot_reaches_active_with_notifications(mesh: Mesh) -> None:
    server = await create(mesh)
    row = await mesh.wait_for(server, active)
    assert row["host"] in mesh.agents and row["power_state"] == PowerState.RUNNING
    assert row["launched_at"] is not None
    reply = await mesh.client.call(
        "conductor.get_server", GetServer(server_id=server), GetServerReply
    )
    assert reply.server.status == "ACTIVE"
    await asyncio.sleep(0.3)
    assert mesh.events(server) == ["instance.create.start", "instance.create.end"]
    seqs = [n.payload["sequence"] for n in mesh.notifications]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # ordered, no duplicates
    async with mesh.pool.acquire() as conn:  # recorded like Nova's instance actions
        (action,) = await instance_actions.list_actions(conn, server)
        detail = await instance_actions.get_action(conn, server, action["request_id"])
    assert action["action"] == "create" and action["finish_time"] is not None
    assert [(e["event"], e["result"]) for e in detail["events"]] == [
        ("conductor_schedule_and_build_instances", "Success"),
        ("compute__do_build_and_run_instance", "Success"),
    ]


async def test_delete_frees_quota_and_notifies(mesh: Mesh) -> None:
    server = await create(mesh)
    await mesh.wait_for(server, active)
    before = await mesh.quota_in_use("instances")
    await mesh.client.call("conductor.delete_server", DeleteServer(server_id=server), Accepted)
    row = await mesh.wait_for(server, lambda r: r["deleted"])
    assert row["vm_state"] == "deleted"
    assert await mesh.quota_in_use("instances") == before - 1
    await asyncio.sleep(0.3)
    assert mesh.events(server)[-2:] == ["instance.delete.start", "instance.delete.end"]
    with pytest.raises(NotFound):
        await mesh.client.call("conductor.get_server", GetServer(server_id=server), GetServerReply)


async def test_spawn_failure_reschedules_to_another_host(mesh: Mesh) -> None:
    first = mesh.scheduler.hosts[0]
    mesh.agents[first].fail_spawn = "disk full"
    mesh.scheduler.calls = 0  # the first choice is the failing host
    server = await create(mesh)
    row = await mesh.wait_for(server, active)
    assert row["host"] != first
    assert row["attempts"] == 1 and row["build_failures"][0]["host"] == first


async def test_failing_everywhere_ends_in_error_with_the_reasons(mesh: Mesh) -> None:
    for agent in mesh.agents.values():
        agent.fail_spawn = "no space left"
    server = await create(mesh)
    row = await mesh.wait_for(server, lambda r: r["vm_state"] == "error")
    assert row["task_state"] is None and row["attempts"] == 3
    reply = await mesh.client.call(
        "conductor.get_server", GetServer(server_id=server), GetServerReply
    )
    assert reply.server.status == "ERROR"
    assert reply.server.fault is not None and "no space left" in reply.server.fault.message
    assert all(host in reply.server.fault.details for host in mesh.scheduler.hosts)
    await asyncio.sleep(0.3)
    assert mesh.events(server)[-1] == "instance.create.error"
    async with mesh.pool.acquire() as conn:
        (action,) = await instance_actions.list_actions(conn, server)
        detail = await instance_actions.get_action(conn, server, action["request_id"])
    assert action["message"] == "Error" and action["finish_time"] is not None
    spawns = [e for e in detail["events"] if e["event"] == "compute__do_build_and_run_instance"]
    assert [e["result"] for e in spawns] == ["Error"] * 3  # one per attempt
    assert all("no space left" in e["details"] for e in spawns)


async def test_a_host_that_never_answers_hits_the_deadline(mesh: Mesh) -> None:
    for agent in mesh.agents.values():
        agent.silent = True
    server = await create(mesh)
    row = await mesh.wait_for(server, lambda r: r["vm_state"] == "error", timeout=20)
    assert "timed out in task state spawning" in str(row["build_failures"])


async def test_quota_holds_under_concurrent_creates(mesh: Mesh) -> None:
    async with mesh.pool.acquire() as conn:
        await quotas.set_limit(conn, mesh.project_id, "instances", 10)
    results = await asyncio.gather(
        *(create(mesh, f"q{i}") for i in range(50)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, uuid.UUID)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(created) == 10 and len(refused) == 40
    assert await mesh.quota_in_use("instances") == 10


async def test_the_same_idempotency_key_creates_one_server(mesh: Mesh) -> None:
    request = CreateServer(
        name="once", flavor_id=mesh.flavor_id, image_id=mesh.image_id, networks="none"
    )
    replies = []
    for _ in range(2):
        envelope = envelope_for(request, Kind.CALL, context=mesh.ctx, idempotency_key="k-1")
        replies.append(await mesh.bus.call("conductor.create_server", envelope))
    assert replies[0].payload["server_ids"] == replies[1].payload["server_ids"]


async def test_duplicate_and_stale_facts_change_nothing(mesh: Mesh) -> None:
    server = await create(mesh)
    row = await mesh.wait_for(server, active)
    agent = mesh.agents[row["host"]]
    # the guest stops behind our back (seq n), then a stale "spawned" (seq n-1) arrives late
    agent._seq += 10
    stop_seq = agent._seq
    await agent.report(InstancePowerStateChanged, server, power_state=PowerState.SHUTDOWN)
    await mesh.wait_for(server, lambda r: r["vm_state"] == "stopped")
    agent._seq = stop_seq - 1
    await agent.report(InstanceSpawned, server)  # stale
    agent._seq = stop_seq - 1
    await agent.report(InstancePowerStateChanged, server, power_state=PowerState.SHUTDOWN)
    await asyncio.sleep(0.3)
    row = await mesh.instance(server)
    assert row["vm_state"] == "stopped" and row["power_state"] == PowerState.SHUTDOWN
    assert mesh.events(server).count("instance.power_off.end") == 1


async def test_stop_and_start(mesh: Mesh) -> None:
    server = await create(mesh)
    await mesh.wait_for(server, active)
    await mesh.client.call(
        "conductor.server_action", ServerAction(server_id=server, action=Stop()), Accepted
    )
    await mesh.wait_for(server, lambda r: r["vm_state"] == "stopped" and not r["task_state"])
    with pytest.raises(Conflict):
        await mesh.client.call(
            "conductor.server_action", ServerAction(server_id=server, action=Stop()), Accepted
        )
    await mesh.client.call(
        "conductor.server_action", ServerAction(server_id=server, action=Start()), Accepted
    )
    await mesh.wait_for(server, active)
    await asyncio.sleep(0.3)
    assert mesh.events(server)[-4:] == [
        "instance.power_off.start",
        "instance.power_off.end",
        "instance.power_on.start",
        "instance.power_on.end",
    ]


async def test_snapshot_reconciles_missing_and_stopped_domains(mesh: Mesh) -> None:
    from datetime import UTC, datetime

    from schemas.messages.host_facts import AgentSnapshot, DomainState
    from schemas.placement import HostRole

    mesh.scheduler.hosts = mesh.scheduler.hosts[:1]  # both on one host
    first, second = await create(mesh, "snap-a"), await create(mesh, "snap-b")
    rows = [await mesh.wait_for(s, active) for s in (first, second)]
    host = rows[0]["host"]
    on_host = [r["id"] for r in rows]
    assert {r["host"] for r in rows} == {host}
    agent = mesh.agents[host]
    agent._seq += 100
    orphan = uuid.uuid4()
    # the host restarted: the first instance's domain is shut off, the others are gone,
    # and it runs a domain nobody owns
    snapshot = AgentSnapshot(
        host=host,
        resource_id=uuid.uuid4(),
        seq=agent._seq,
        observed_at=datetime.now(UTC),
        roles=frozenset({HostRole.COMPUTE}),
        domains=(
            DomainState(instance_id=on_host[0], power_state=PowerState.SHUTDOWN, seq=agent._seq),
            DomainState(instance_id=orphan, power_state=PowerState.RUNNING, seq=agent._seq),
        ),
    )
    await mesh.client.publish("events", snapshot.routing_key("compute"), snapshot)
    await mesh.wait_for(on_host[0], lambda r: r["vm_state"] == "stopped")
    for missing in on_host[1:]:
        row = await mesh.wait_for(missing, lambda r: r["vm_state"] == "stopped")
        assert row["power_state"] == PowerState.NOSTATE
    async with mesh.pool.acquire() as conn:  # the orphan is not adopted into the DB
        from conductor.db.queries import instances as q

        assert await q.get_instance(conn, orphan) is None


@pytest.mark.parametrize(
    ("actions", "states", "events"),
    [
        (
            ["pause", "unpause"],
            ["paused", "active"],
            [
                "instance.pause.start",
                "instance.pause.end",
                "instance.unpause.start",
                "instance.unpause.end",
            ],
        ),
        (
            ["suspend", "resume"],
            ["suspended", "active"],
            [
                "instance.suspend.start",
                "instance.suspend.end",
                "instance.resume.start",
                "instance.resume.end",
            ],
        ),
        (
            ["reboot-soft", "reboot-hard"],
            ["active", "active"],
            ["instance.reboot.start", "instance.reboot.end"] * 2,
        ),
    ],
)
async def test_power_actions(
    mesh: Mesh, actions: list[str], states: list[str], events: list[str]
) -> None:
    from schemas.messages import conductor_actions as ca

    kinds = {
        "pause": ca.Pause(),
        "unpause": ca.Unpause(),
        "suspend": ca.Suspend(),
        "resume": ca.Resume(),
        "reboot-soft": ca.Reboot(),
        "reboot-hard": ca.Reboot(type=ca.RebootType.HARD),
    }
    server = await create(mesh)
    await mesh.wait_for(server, active)
    for action, state in zip(actions, states, strict=True):
        await mesh.client.call(
            "conductor.server_action",
            ServerAction(server_id=server, action=kinds[action]),
            Accepted,
        )
        await mesh.wait_for(server, lambda r, s=state: r["vm_state"] == s and not r["task_state"])
    await asyncio.sleep(0.3)
    assert mesh.events(server)[2:] == events
    with pytest.raises(Conflict):  # unpausing a server that is not paused is refused
        await mesh.client.call(
            "conductor.server_action", ServerAction(server_id=server, action=ca.Unpause()), Accepted
        )
