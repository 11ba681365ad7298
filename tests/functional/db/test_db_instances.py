"""Instances: insert, idempotency keys, filters, guarded state changes, deadline sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import db_factories as make
import pytest

from conductor.db.queries import instance_actions, instance_list, instance_metadata, instances
from conductor.db.queries.instance_list import InstanceFilter

pytestmark = pytest.mark.functional


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


async def test_insert_and_get_with_metadata_and_tags(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    vm = await make.instance(
        conn,
        project,
        metadata={"role": "db"},
        tags=["blue", "prod", "blue"],
        request_spec={"num_instances": 1},
    )

    assert vm["vm_state"] == "building" and vm["task_state"] == "scheduling"
    assert vm["power_state"] == 0  # NOSTATE
    assert vm["flavor"] == make.FLAVOR and vm["request_spec"] == {"num_instances": 1}
    assert vm["metadata"] == {"role": "db"} and vm["tags"] == ["blue", "prod"]
    stranger = await make.project(conn)
    assert await instances.get_instance(conn, vm["id"], project_id=stranger) is None
    mine = await instances.get_instance(conn, vm["id"], project_id=project)
    assert mine is not None and mine["id"] == vm["id"]


async def test_idempotency_key_is_unique_per_project(conn: asyncpg.Connection) -> None:
    project, other = await make.project(conn), await make.project(conn)
    first = await make.instance(conn, project, idempotency_key="req-1")

    again = await instances.insert_instance(
        conn,
        project_id=project,
        user_id=first["user_id"],
        name="dup",
        flavor=make.FLAVOR,
        idempotency_key="req-1",
    )

    assert again is None
    existing = await instances.get_by_idempotency_key(conn, project, "req-1")
    assert existing is not None and existing["id"] == first["id"]
    assert await make.instance(conn, other, idempotency_key="req-1")  # another project


async def test_list_by_project_with_filters_and_pages(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    web = [await make.instance(conn, project, name=f"web-{n}", tags=["web"]) for n in range(3)]
    db = await make.instance(conn, project, name="db-0", tags=["db", "prod"])
    await make.instance(conn, await make.project(conn), name="web-other")
    await instances.update_state(conn, db["id"], vm_state="active", task_state=None)
    gone = await make.instance(conn, project, name="web-gone")
    await instances.mark_deleted(conn, gone["id"])

    async def names(**filters: Any) -> list[str]:
        rows = await instance_list.list_instances(conn, project, InstanceFilter(**filters))
        return [r["name"] for r in rows]

    assert await names() == ["db-0", "web-2", "web-1", "web-0"]
    assert await names(name="WEB") == ["web-2", "web-1", "web-0"]
    assert await names(vm_states=["active"]) == ["db-0"]
    assert await names(tags=["db", "prod"]) == ["db-0"]
    assert await names(tags=["web", "prod"]) == []
    assert await names(tags_any=["prod", "nope"]) == ["db-0"]
    assert await names(task_states=[None]) == ["db-0"]
    assert await names(include_deleted=True, name="gone") == ["web-gone"]
    page1 = await instance_list.list_instances(conn, project, limit=2)
    page2 = await instance_list.list_instances(conn, project, limit=2, marker=page1[-1]["id"])
    assert [r["name"] for r in page1 + page2] == ["db-0", "web-2", "web-1", "web-0"]
    assert web[0]["id"] == page2[-1]["id"]


async def test_update_state_checks_the_expected_task_state(conn: asyncpg.Connection) -> None:
    vm = await make.instance(conn, await make.project(conn), task_deadline=ago(-60))

    refused = await instances.update_state(
        conn, vm["id"], expected_task_state="spawning", vm_state="active"
    )
    assert refused is None
    spawning = await instances.update_state(
        conn,
        vm["id"],
        expected_task_state=["scheduling", None],
        task_state="spawning",
        host=None,
        task_deadline=ago(-120),
    )
    assert spawning is not None and spawning["task_state"] == "spawning"
    active = await instances.update_state(
        conn,
        vm["id"],
        expected_task_state="spawning",
        expected_vm_state="building",
        vm_state="active",
        task_state=None,
        power_state=1,
        launched_at=ago(0),
    )
    assert active is not None
    assert (active["vm_state"], active["task_state"], active["task_deadline"]) == (
        "active",
        None,
        None,  # clearing the task clears its deadline
    )
    with pytest.raises(ValueError, match="cannot set"):
        await instances.update_state(conn, vm["id"], project_id=vm["project_id"])


async def test_deadline_sweep_returns_only_expired_rows(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    expired = await make.instance(conn, project, task_deadline=ago(30))
    future = await make.instance(conn, project, task_deadline=ago(-300))
    no_deadline = await make.instance(conn, project)
    deleted = await make.instance(conn, project, task_deadline=ago(60))
    await instances.mark_deleted(conn, deleted["id"])
    mine = {expired["id"], future["id"], no_deadline["id"], deleted["id"]}

    async with conn.transaction():
        due = await instances.expired_deadlines(conn, limit=10_000)

    assert {r["id"] for r in due} & mine == {expired["id"]}
    with pytest.raises(RuntimeError, match="inside a transaction"):
        await instances.expired_deadlines(conn)
    assert await instances.set_deadline(conn, expired["id"], ago(-60))
    async with conn.transaction():
        assert expired["id"] not in {r["id"] for r in await instances.expired_deadlines(conn)}


async def test_concurrent_sweepers_get_disjoint_rows(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        project = await make.project(conn)
        ids = {(await make.instance(conn, project, task_deadline=ago(5)))["id"] for _ in range(6)}
    gate = asyncio.Event()

    async def sweep() -> set[object]:
        async with pool.acquire() as conn, conn.transaction():
            rows = await instances.expired_deadlines(conn, limit=3)
            await gate.wait()  # hold the locks while the other sweeper runs
            return {r["id"] for r in rows}

    first = asyncio.create_task(sweep())
    second = asyncio.create_task(sweep())
    await asyncio.sleep(0.3)
    gate.set()
    a, b = await first, await second

    assert len(a) == len(b) == 3
    assert a | b == ids


async def test_actions_events_faults_metadata(conn: asyncpg.Connection) -> None:
    vm = await make.instance(conn, await make.project(conn))
    action = await instance_actions.start_action(conn, vm["id"], "req-9", "create")
    assert await instance_actions.start_action(conn, vm["id"], "req-9", "create") == action
    event = await instance_actions.start_event(conn, action, "schedule", host="cmp-1")
    await instance_actions.finish_event(conn, event, ok=False, traceback="Boom")
    await instance_actions.finish_action(conn, action, message="Error")
    await instance_actions.add_fault(conn, vm["id"], 500, "No valid host", host="cmp-1")

    got = await instance_actions.get_action(conn, vm["id"], "req-9")
    assert got is not None and got["message"] == "Error" and got["finish_time"] is not None
    assert [(e["event"], e["result"]) for e in got["events"]] == [("schedule", "Error")]
    fault = await instance_actions.latest_fault(conn, vm["id"])
    assert fault is not None and (fault["code"], fault["message"]) == (500, "No valid host")

    assert await instance_metadata.set_metadata(conn, vm["id"], {"a": "1", "b": "2"}) == {
        "a": "1",
        "b": "2",
    }
    assert await instance_metadata.set_metadata(conn, vm["id"], {"c": "3"}, replace=True) == {
        "c": "3"
    }
    assert await instance_metadata.set_tags(conn, vm["id"], ["x", "y"]) == ["x", "y"]
    assert await instance_metadata.add_tag(conn, vm["id"], "z")
    assert not await instance_metadata.add_tag(conn, vm["id"], "z")
    assert await instance_metadata.remove_tag(conn, vm["id"], "x")
    got_vm = await instances.get_instance(conn, vm["id"])
    assert got_vm is not None and got_vm["tags"] == ["y", "z"]
