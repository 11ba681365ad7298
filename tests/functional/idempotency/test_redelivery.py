"""Redelivered on purpose: the same command envelope twice, a command resent after its
reply was lost, a fact delivered twice (and a stale one); nothing is applied twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aio_pika
import asyncpg
import orjson
import pytest

from corebus.api import IDEMPOTENCY_HEADER
from corebus.config import AmqpSettings
from corebus.envelope import Kind, RequestContext, envelope_for
from corebus.transport import make_bus
from schemas.messages.conductor_servers import CreateServer
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow]


async def fetch(mesh: ChaosMesh, query: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(mesh.dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def create_body(api: Any, name: str) -> dict[str, Any]:
    flavor = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"][0]["id"]
    image = (await api.command("images.list", {"name": "busybox"}))["images"][0]["id"]
    return {"name": name, "flavor_id": flavor, "image_id": image, "networks": "none"}


async def instances_in_use(mesh: ChaosMesh) -> int:
    rows = await fetch(
        mesh,
        "SELECT in_use FROM quota_usages u JOIN projects p ON p.id = u.project_id "
        "WHERE p.name = 'demo' AND u.resource = 'instances'",
    )
    return int(rows[0]["in_use"]) if rows else 0


async def active(api: Any, server_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        server: dict[str, Any] = (await api.command("servers.get", {"server_id": server_id}))[
            "server"
        ]
        if server["vm_state"] == "active" and not server["task_state"]:
            return server
        assert server["vm_state"] != "error", server.get("fault")
        assert time.monotonic() < deadline, f"{server_id} is {server['vm_state']}"
        await asyncio.sleep(0.2)


async def test_the_same_command_published_twice_creates_one_server(
    idem_mesh: ChaosMesh, api: Any
) -> None:
    name = f"twice-{uuid.uuid4().hex[:6]}"
    body = orjson.dumps(await create_body(api, name))
    before = await instances_in_use(idem_mesh)
    connection = await aio_pika.connect(idem_mesh.amqp_url)
    try:
        channel = await connection.channel()
        replies = await channel.declare_queue(exclusive=True)
        exchange = await channel.get_exchange("skymesh.api")
        message = aio_pika.Message(
            body,
            message_id=f"order-{name}",
            user_id="guest",
            reply_to=replies.name,
            correlation_id="c1",
            content_type="application/json",
        )
        await exchange.publish(message, "servers.create")
        await exchange.publish(message, "servers.create")  # the broker redelivers it
        answers = []
        async with replies.iterator() as stream:
            async for incoming in stream:
                await incoming.ack()
                answers.append(orjson.loads(incoming.body))
                if len(answers) == 2:
                    break
    finally:
        await connection.close()
    ids = {a["result"]["server_ids"][0] for a in answers}
    assert len(ids) == 1, answers
    rows = await fetch(idem_mesh, "SELECT id FROM instances WHERE name = $1", name)
    assert len(rows) == 1
    assert await instances_in_use(idem_mesh) == before + 1  # charged once
    await active(api, ids.pop())


async def test_a_create_resent_after_its_reply_was_lost(idem_mesh: ChaosMesh, api: Any) -> None:
    name = f"lost-{uuid.uuid4().hex[:6]}"
    body = await create_body(api, name)
    key = f"retry-{name}"
    connection = await aio_pika.connect(idem_mesh.amqp_url)
    try:  # the first answer goes to a reply queue that is gone: the client never sees it
        channel = await connection.channel()
        exchange = await channel.get_exchange("skymesh.api")
        lost = aio_pika.Message(
            orjson.dumps(body),
            user_id="guest",
            reply_to="amq.gen-gone",
            correlation_id="lost",
            headers={IDEMPOTENCY_HEADER: key},
            content_type="application/json",
        )
        await exchange.publish(lost, "servers.create")
    finally:
        await connection.close()
    await asyncio.sleep(1.0)
    again = await api.command("servers.create", body, idempotency_key=key)
    rows = await fetch(idem_mesh, "SELECT id::text FROM instances WHERE name = $1", name)
    assert [r["id"] for r in rows] == list(again["server_ids"])
    await active(api, again["server_ids"][0])
    # a delete resent after its reply was lost: accepted again, deleted once
    server_id = again["server_ids"][0]
    await api.command("servers.delete", {"server_id": server_id})
    try:
        await api.command("servers.delete", {"server_id": server_id})
    except Exception as exc:  # already gone
        assert type(exc).__name__ == "NotFound"
    deadline = time.monotonic() + 20
    while await fetch(
        idem_mesh, "SELECT 1 FROM instances WHERE id = $1::uuid AND NOT deleted", server_id
    ):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    ends = await fetch(
        idem_mesh,
        "SELECT count(*) AS n FROM outbox WHERE event_type = 'instance.delete.end' "
        "AND payload::text LIKE '%' || $1 || '%'",
        server_id,
    )
    assert ends[0]["n"] == 1


async def test_a_fact_delivered_twice_is_applied_once(idem_mesh: ChaosMesh, api: Any) -> None:
    """A real fact (the agent's own, signed as it signs them) captured off the bus and
    published again, twice, then again once it is stale: applied once, never undone."""
    created = await api.command("servers.create", await create_body(api, "fact-twice"))
    server_id = created["server_ids"][0]
    server = await active(api, server_id)
    host = server["host"]

    async def notes() -> int:
        rows = await fetch(
            idem_mesh,
            "SELECT count(*) AS n FROM outbox WHERE payload::text LIKE '%' || $1 || '%'",
            server_id,
        )
        return int(rows[0]["n"])

    async def vm_state() -> str:
        return str(
            (await api.command("servers.get", {"server_id": server_id}))["server"]["vm_state"]
        )

    async def until(state: str) -> None:
        deadline = time.monotonic() + 15
        while await vm_state() != state:
            assert time.monotonic() < deadline, f"never {state}"
            await asyncio.sleep(0.2)

    connection = await aio_pika.connect(idem_mesh.amqp_url)
    try:
        channel = await connection.channel()
        copies = await channel.declare_queue(exclusive=True)
        await copies.bind("skymesh.events", f"compute.{host}.instance.#")
        code, out = await idem_mesh.skymesh("fake-hypervisor", "destroy", server_id, "--host", host)
        assert code == 0, out
        await until("stopped")
        captured = await copies.get(timeout=10)
        assert captured is not None
        body, key = captured.body, captured.routing_key or ""
        assert server_id in body.decode()
        await asyncio.sleep(1.0)
        after_first = await notes()
        events = await channel.get_exchange("skymesh.events")
        for _ in range(2):  # the broker delivers the same fact again
            await events.publish(aio_pika.Message(body, content_type="application/json"), key)
        await asyncio.sleep(2.0)
        assert await notes() == after_first, "a redelivered fact was applied again"
        assert await vm_state() == "stopped"
        code, out = await idem_mesh.skymesh("fake-hypervisor", "start", server_id, "--host", host)
        assert code == 0, out
        await until("active")
        await asyncio.sleep(1.0)
        after_start = await notes()
        await events.publish(aio_pika.Message(body, content_type="application/json"), key)
        await asyncio.sleep(2.0)  # stale now: older than the start the host reported since
        assert await vm_state() == "active"
        assert await notes() == after_start
    finally:
        await connection.close()


async def test_a_call_redelivered_to_the_conductor_creates_one_server(
    idem_mesh: ChaosMesh, api: Any
) -> None:
    """A call whose conductor died before acking it comes again with the same message id
    (and no idempotency key): the second delivery answers with the first server."""
    (user,) = await fetch(
        idem_mesh,
        "SELECT u.id AS user_id, u.default_project_id AS project_id FROM users u "
        "WHERE u.name = 'guest'",
    )
    context = RequestContext(
        user_id=user["user_id"], project_id=user["project_id"], roles=("member",)
    )
    name = f"call-{uuid.uuid4().hex[:6]}"
    request = CreateServer.model_validate(await create_body(api, name))
    envelope = envelope_for(request, Kind.CALL, context=context)
    bus = make_bus(AmqpSettings(url=idem_mesh.amqp_url), name="idem-call")
    await bus.start()
    try:
        first = await bus.call("conductor.create_server", envelope, timeout=30)
        again = await bus.call("conductor.create_server", envelope, timeout=30)
    finally:
        await bus.close()
    assert first.payload["server_ids"] == again.payload["server_ids"]
    assert len(await fetch(idem_mesh, "SELECT id FROM instances WHERE name = $1", name)) == 1
