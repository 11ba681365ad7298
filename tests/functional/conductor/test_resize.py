"""Resize, cold migrate, confirm and revert on real PostgreSQL with the real scheduler
(so the allocations are real) and stand-in agents."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from schemas.errors import Conflict, InvalidInput
from schemas.instance_state import PowerState
from schemas.messages.common import Accepted
from schemas.messages.conductor_actions import (
    ConfirmResize,
    Migrate,
    Resize,
    RevertResize,
    ServerAction,
    Stop,
)
from schemas.messages.conductor_servers import GetServer, GetServerReply
from tests.functional.conductor.placed import Placed, placed  # noqa: F401

pytestmark = pytest.mark.functional

SMALL = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
BIG = {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 2}


def settled(vm_state: str):  # type: ignore[no-untyped-def]
    return lambda row: row["vm_state"] == vm_state and row["task_state"] is None


async def status(p: Placed, server: uuid.UUID) -> str:
    reply = await p.mesh.client.call(
        "conductor.get_server", GetServer(server_id=server), GetServerReply
    )
    return str(reply.server.status)


async def booted(p: Placed) -> tuple[uuid.UUID, str]:
    server = await p.create()
    row = await p.mesh.wait_for(server, settled("active"))
    assert await p.held(server) == {row["host"]: SMALL}
    return server, row["host"]


async def resized(p: Placed, server: uuid.UUID, action: Resize | Migrate) -> dict:  # type: ignore[type-arg]
    await p.act(server, action)
    row = await p.mesh.wait_for(server, settled("resized"))
    assert await status(p, server) == "VERIFY_RESIZE"
    return row


async def test_resize_then_confirm_frees_the_source(placed: Placed) -> None:  # noqa: F811
    p = placed
    server, source = await booted(p)
    row = await resized(p, server, Resize(flavor_id=p.big))
    dest = row["host"]
    assert dest != source and dest in p.hosts
    assert row["flavor"]["vcpus"] == 2 and row["flavor_id"] == p.big
    migration = await p.migration(server)
    assert (migration["source_host"], migration["dest_host"]) == (source, dest)
    assert migration["status"] == "finished"
    # both held until confirmed: the source by the migration, the destination by the instance
    assert await p.held(migration["id"]) == {source: SMALL}
    assert await p.held(server) == {dest: BIG}
    assert await p.mesh.quota_in_use("cores") >= 2

    await p.act(server, ConfirmResize())
    row = await p.mesh.wait_for(server, settled("active"))
    assert row["host"] == dest and row["flavor"]["vcpus"] == 2
    assert await p.held(migration["id"]) == {}
    assert await p.held(server) == {dest: BIG}
    assert (await p.migration(server))["status"] == "confirmed"
    assert "confirm_resize" in p.mesh.agents[source].commands
    await asyncio.sleep(0.3)
    assert p.mesh.events(server)[-4:] == [
        "instance.resize.start",
        "instance.resize.end",
        "instance.resize_confirm.start",
        "instance.resize_confirm.end",
    ]


async def test_resize_then_revert_restores_flavor_and_host(placed: Placed) -> None:  # noqa: F811
    p = placed
    server, source = await booted(p)
    row = await resized(p, server, Resize(flavor_id=p.big))
    dest = row["host"]
    migration = await p.migration(server)

    await p.act(server, RevertResize())
    row = await p.mesh.wait_for(server, settled("active"))
    assert row["host"] == source and row["flavor_id"] == p.small
    assert row["flavor"]["vcpus"] == 1 and row["power_state"] == PowerState.RUNNING
    assert await p.held(server) == {source: SMALL}
    assert await p.held(migration["id"]) == {}
    assert (await p.migration(server))["status"] == "reverted"
    assert "revert_resize" in p.mesh.agents[dest].commands
    assert "finish_revert_resize" in p.mesh.agents[source].commands
    await asyncio.sleep(0.3)
    assert p.mesh.events(server)[-2:] == [
        "instance.resize_revert.start",
        "instance.resize_revert.end",
    ]


async def test_migrate_moves_the_host_and_keeps_the_flavor(placed: Placed) -> None:  # noqa: F811
    p = placed
    server, source = await booted(p)
    row = await resized(p, server, Migrate())
    assert row["host"] != source and row["flavor_id"] == p.small
    await p.act(server, ConfirmResize())
    row = await p.mesh.wait_for(server, settled("active"))
    assert await p.held(server) == {row["host"]: SMALL}
    await asyncio.sleep(0.3)
    assert "instance.migrate.end" in p.mesh.events(server)


async def test_a_stopped_server_is_resized_and_stays_stopped(placed: Placed) -> None:  # noqa: F811
    p = placed
    server, _ = await booted(p)
    await p.act(server, Stop())
    await p.mesh.wait_for(server, settled("stopped"))
    await resized(p, server, Resize(flavor_id=p.big))
    await p.act(server, ConfirmResize())
    row = await p.mesh.wait_for(server, settled("stopped"))
    assert row["power_state"] == PowerState.SHUTDOWN


async def test_a_stuck_finish_hits_its_deadline_and_goes_back_to_the_source(
    placed: Placed,  # noqa: F811
) -> None:
    p = placed
    server, source = await booted(p)
    for host, agent in p.mesh.agents.items():
        if host != source:
            agent.stuck.add("finish_resize")
    await p.act(server, Resize(flavor_id=p.big))
    await p.mesh.wait_for(server, lambda r: r["task_state"] == "resize_finish")
    row = await p.mesh.wait_for(server, settled("active"), timeout=10)
    assert row["host"] == source and row["flavor_id"] == p.small
    assert await p.held(server) == {source: SMALL}
    migration = await p.migration(server)
    assert migration["status"] == "error" and await p.held(migration["id"]) == {}
    await asyncio.sleep(0.3)
    assert p.mesh.events(server)[-1] == "instance.resize.error"


async def test_state_checks_refuse_with_conflict(placed: Placed) -> None:  # noqa: F811
    p = placed
    server, _ = await booted(p)
    with pytest.raises(Conflict):
        await p.act(server, ConfirmResize())
    with pytest.raises(Conflict):
        await p.act(server, RevertResize())
    with pytest.raises(InvalidInput):
        await p.act(server, Resize(flavor_id=p.small))  # the same flavor
    await resized(p, server, Resize(flavor_id=p.big))
    with pytest.raises(Conflict):
        await p.act(server, Migrate())
    with pytest.raises(Conflict):
        await p.mesh.client.call(
            "conductor.server_action", ServerAction(server_id=server, action=Stop()), Accepted
        )


async def test_deleting_a_resized_server_frees_both_hosts(placed: Placed) -> None:  # noqa: F811
    from schemas.messages.conductor_servers import DeleteServer

    p = placed
    server, _ = await booted(p)
    await resized(p, server, Resize(flavor_id=p.big))
    migration = await p.migration(server)
    cores = await p.mesh.quota_in_use("cores")
    await p.mesh.client.call("conductor.delete_server", DeleteServer(server_id=server), Accepted)
    await p.mesh.wait_for(server, lambda r: r["deleted"])
    assert await p.held(server) == {} and await p.held(migration["id"]) == {}
    assert await p.mesh.quota_in_use("cores") == cores - 2
