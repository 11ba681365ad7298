"""Host heartbeats, idempotency keys and workflow resumption."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import db_factories as make
import pytest

from conductor.db.queries import hosts, idempotency, workflows

pytestmark = pytest.mark.functional


async def test_heartbeats_follow_incarnation_and_sequence(conn: asyncpg.Connection) -> None:
    name, first = make.unique("cmp"), uuid4()
    row = await hosts.register_host(
        conn, name, ["compute", "storage"], incarnation=first, availability_zone="az1"
    )
    assert row["roles"] == ["compute", "storage"] and row["root_provider_id"]

    assert await hosts.heartbeat(conn, name, first, 1) == "ok"
    assert await hosts.heartbeat(conn, name, first, 1) == "stale"
    assert await hosts.heartbeat(conn, name, uuid4(), 9) == "reregister"
    assert await hosts.heartbeat(conn, make.unique("nobody"), first, 1) == "reregister"

    second = uuid4()
    again = await hosts.register_host(conn, name, ["compute"], incarnation=second)
    assert again["root_provider_id"] == row["root_provider_id"]
    assert again["agent_sequence"] == 0 and again["availability_zone"] == "az1"
    assert await hosts.heartbeat(conn, name, second, 1) == "ok"
    assert await hosts.heartbeat(conn, name, first, 2) == "reregister"

    disabled = await hosts.set_enabled(conn, name, False, reason="disk failing")
    assert disabled is not None and disabled["disabled_reason"] == "disk failing"
    enabled = await hosts.set_enabled(conn, name, True, reason="ignored")
    assert enabled is not None and enabled["disabled_reason"] is None
    got = await hosts.get_host(conn, name)
    assert got is not None and got["is_up"]


async def test_idempotency_remember_and_lookup(conn: asyncpg.Connection) -> None:
    key = str(uuid4())

    assert await idempotency.remember(conn, "servers.create", key)
    assert not await idempotency.remember(conn, "servers.create", key)
    assert await idempotency.remember(conn, "message", key)  # another scope
    assert await idempotency.set_result(conn, "servers.create", key, {"id": "vm-1"})
    record = await idempotency.lookup(conn, "servers.create", key)
    assert record is not None and record.result == {"id": "vm-1"}
    assert await idempotency.lookup(conn, "servers.create", "unknown") is None
    future = datetime.now(UTC) + timedelta(hours=1)
    assert await idempotency.purge(conn, future, scope="message") >= 1
    assert await idempotency.lookup(conn, "message", key) is None


async def test_concurrent_duplicates_wait_for_the_first_handler(pool: asyncpg.Pool) -> None:
    key = str(uuid4())

    async def handle() -> bool:
        async with pool.acquire() as conn, conn.transaction():
            first = await idempotency.remember(conn, "message", key)
            await asyncio.sleep(0.05)
            return first

    results = await asyncio.gather(*(handle() for _ in range(5)))
    assert results.count(True) == 1


async def test_workflows_advance_and_resume_after_deadline(conn: asyncpg.Connection) -> None:
    vm = await make.instance(conn, await make.project(conn))
    past = datetime.now(UTC) - timedelta(seconds=1)
    flow = await workflows.start_workflow(
        conn,
        "build",
        "schedule",
        instance_id=vm["id"],
        payload={"attempt": 1},
        deadline=past,
        owner="conductor-a",
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await workflows.start_workflow(conn, "build", "schedule", instance_id=vm["id"])

    assert await workflows.advance(conn, flow["id"], "spawn", expected_step="network") is None
    moved = await workflows.advance(
        conn, flow["id"], "network", expected_step="schedule", payload={"host": "cmp-1"}
    )
    assert moved is not None and moved["payload"] == {"attempt": 1, "host": "cmp-1"}

    claimed = await workflows.claim_expired(conn, "conductor-b", limit=10_000)
    mine = [w for w in claimed if w["id"] == flow["id"]]
    assert len(mine) == 1 and mine[0]["owner"] == "conductor-b" and mine[0]["attempts"] == 1
    assert mine[0]["step"] == "network"

    done = await workflows.finish(conn, flow["id"], "succeeded")
    assert done is not None and done["deadline"] is None
    assert await workflows.finish(conn, flow["id"], "failed") is None
    assert await workflows.live_for_instance(conn, vm["id"]) is None
