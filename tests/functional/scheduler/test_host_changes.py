"""`conductor.host_view` with `changed_since`: a scheduler fetches only the hosts changed
since its cursor (claims, inventory, aggregates, enablement, instances' tasks), hosts
that left the view come back as `removed`, a heartbeat alone is no change, and a cursor
older than the change log's retention gets a whole view with cursor 0. Each host also
carries its scheduling facts."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from conductor.db.queries import aggregates, host_changes, instances
from conductor.db.queries import hosts as host_queries
from corebus.client import Client
from schemas.claims import Claim
from schemas.messages.conductor_hosts import (
    ApplyPlan,
    ApplyPlanReply,
    HostGeneration,
    HostView,
    HostViewReply,
    PlannedAllocation,
)
from schemas.placement import HostInventory
from tests.functional.scheduler.mesh import new_instances, register, zone

pytestmark = pytest.mark.functional

SMALL = HostInventory(vcpus=4, memory_mb=4096, disk_gb=40)


async def view(client: Client, **fields: object) -> HostViewReply:
    return await client.call(
        "conductor.host_view", HostView(include_disabled=True, **fields), HostViewReply
    )


async def hosts(client: Client, count: int) -> list[tuple[UUID, str, int]]:
    az, found = zone(), []
    for _ in range(count):
        name = f"cmp-{uuid4().hex[:8]}"
        reply = await register(client, name, SMALL, az)
        found.append((reply.host_id, name, reply.generation))
    return found


async def settled(client: Client, pool: asyncpg.Pool, since: str, *args: object) -> int:
    """A whole view's cursor past the xid `since` (a query) returns: transactions open
    anywhere on the server (other tests) hold the cursor back for a moment."""
    async with pool.acquire() as conn:
        last = await conn.fetchval(since, *args)
    deadline = time.monotonic() + 10
    while (cursor := (await view(client)).cursor) <= last:
        assert time.monotonic() < deadline, f"the cursor stays at {cursor}, not past {last}"
        await asyncio.sleep(0.05)
    return cursor


async def past_changes_of(client: Client, pool: asyncpg.Pool, host_ids: list[UUID]) -> int:
    return await settled(
        client,
        pool,
        "SELECT coalesce(max(xid), 0) FROM host_changes WHERE host_id = ANY($1)",
        host_ids,
    )


def names(reply: HostViewReply) -> set[str]:
    return {snap.host.name for snap in reply.hosts}


async def test_a_whole_view_gives_a_cursor_and_then_only_changes(
    client: Client, pool: asyncpg.Pool
) -> None:
    [(a, name_a, generation), (b, name_b, _)] = await hosts(client, 2)
    whole = await view(client)
    assert {name_a, name_b} <= names(whole) and whole.cursor > 0
    cursor = await past_changes_of(client, pool, [a, b])
    _, (instance,) = await new_instances(pool, 1)

    placed = await client.call(
        "conductor.apply_plan",
        ApplyPlan(
            plan_id=uuid4(),
            allocations=(PlannedAllocation(instance_id=instance, host_id=a, claim=Claim(vcpus=1)),),
            host_generations=(HostGeneration(host_id=a, generation=generation),),
        ),
        ApplyPlanReply,
    )
    assert placed.applied == (instance,)
    changes = await view(client, changed_since=cursor)

    assert name_a in names(changes) and name_b not in names(changes)
    (snap,) = [s for s in changes.hosts if s.host.name == name_a]
    assert snap.usage.vcpus == 1
    assert changes.cursor >= cursor


async def test_a_heartbeat_is_no_change_but_disabling_is(
    client: Client, pool: asyncpg.Pool
) -> None:
    [(a, name_a, _), (b, name_b, _)] = await hosts(client, 2)
    cursor = await past_changes_of(client, pool, [a, b])
    async with pool.acquire() as conn:
        await conn.execute("UPDATE hosts SET last_heartbeat_at = now() WHERE name = $1", name_a)
        await host_queries.set_enabled(conn, name_b, False, reason="maintenance")

    changes = await view(client, changed_since=cursor)
    enabled_only = await client.call(
        "conductor.host_view", HostView(changed_since=cursor), HostViewReply
    )

    assert name_a not in names(changes)
    (snap,) = [s for s in changes.hosts if s.host.name == name_b]
    assert snap.host.disabled
    assert b in enabled_only.removed


async def test_a_host_going_down_is_removed_and_coming_back_is_a_change(
    client: Client, pool: asyncpg.Pool
) -> None:
    [(a, name_a, _)] = await hosts(client, 1)
    cursor = (await view(client)).cursor
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE hosts SET last_heartbeat_at = now() - interval '5 minutes' WHERE id = $1", a
        )
    gone = await view(client, changed_since=cursor)
    assert a in gone.removed

    async with pool.acquire() as conn, conn.transaction():
        await host_changes.note_back_up(conn, name_a, timedelta(seconds=60))
        await conn.execute("UPDATE hosts SET last_heartbeat_at = now() WHERE id = $1", a)
    back = await view(client, changed_since=gone.cursor)

    assert name_a in names(back) and a not in back.removed


async def test_aggregates_and_tasks_change_a_host_and_show_in_its_facts(
    client: Client, pool: asyncpg.Pool
) -> None:
    [(_, name_a, _)] = await hosts(client, 1)
    cursor = (await view(client)).cursor
    _, (instance,) = await new_instances(pool, 1)
    async with pool.acquire() as conn:
        made = await aggregates.create_aggregate(conn, f"agg-{uuid4().hex[:6]}")
        await aggregates.add_host(conn, made["id"], name_a)
        await aggregates.update_metadata(conn, made["id"], {"cpu_allocation_ratio": "2.0"})
        await instances.update_state(conn, instance, host=name_a, task_state="spawning")
        await host_queries.count_failed_build(conn, name_a)

    changes = await view(client, changed_since=cursor)

    (snap,) = [s for s in changes.hosts if s.host.name == name_a]
    assert snap.facts is not None
    assert snap.facts.aggregate_metadata == {made["name"]: {"cpu_allocation_ratio": "2.0"}}
    assert snap.facts.io_ops == 1 and snap.facts.failed_builds == 1
    async with pool.acquire() as conn:
        await host_queries.reset_failed_builds(conn, name_a)
    again = await view(client, changed_since=changes.cursor)
    (snap,) = [s for s in again.hosts if s.host.name == name_a]
    assert snap.facts is not None and snap.facts.failed_builds == 0


async def test_a_cursor_past_the_retention_gets_a_whole_view(
    client: Client, pool: asyncpg.Pool
) -> None:
    [(_, name_a, _)] = await hosts(client, 1)
    cursor = (await view(client)).cursor
    async with pool.acquire() as conn:
        await host_queries.set_enabled(conn, name_a, False, reason="pruned soon")
        await host_changes.prune(conn, timedelta(seconds=-1))

    reply = await view(client, changed_since=cursor)

    assert reply.cursor == 0 and name_a in names(reply)
    fresh = await settled(client, pool, "SELECT xid FROM host_change_horizon")
    assert (await view(client, changed_since=fresh)).cursor > 0
