"""The AMQP producer API: external producers publish JSON commands on `skymesh.api`."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
import orjson
import pytest

from conductor.db.queries import identity
from tests.functional.conductor.conftest import Mesh

pytestmark = pytest.mark.functional


async def skymesh_user(mesh: Mesh, name: str, role: str | None) -> None:
    async with mesh.pool.acquire() as conn:
        user = await identity.get_user_by_name(conn, name)
        if user is None:
            user = await identity.create_user(conn, name, "x", default_project_id=mesh.project_id)
        if role:
            await identity.assign_role(conn, user["id"], mesh.project_id, role)


def create_body(mesh: Mesh, name: str = "via-amqp") -> bytes:
    return orjson.dumps(
        {
            "name": name,
            "flavor_id": str(mesh.flavor_id),
            "image_id": str(mesh.image_id),
            "networks": "none",
        }
    )


async def test_create_then_get_through_commands(mesh: Mesh) -> None:
    await skymesh_user(mesh, "alice", "member")
    reply = await mesh.bus.send_command("servers.create", create_body(mesh), principal="alice")
    assert reply["ok"], reply
    server = uuid.UUID(reply["result"]["server_ids"][0])
    await mesh.wait_for(server, lambda r: r["vm_state"] == "active")
    got = await mesh.bus.send_command(
        "servers.get", orjson.dumps({"server_id": str(server)}), principal="alice"
    )
    assert got["ok"] and got["result"]["server"]["vm_state"] == "active"


async def test_same_idempotency_key_creates_one_server(mesh: Mesh) -> None:
    await skymesh_user(mesh, "bob", "member")
    replies = [
        await mesh.bus.send_command(
            "servers.create", create_body(mesh, "once"), principal="bob", idempotency_key="order-42"
        )
        for _ in range(2)
    ]
    assert replies[0]["result"]["server_ids"] == replies[1]["result"]["server_ids"]


async def test_refusals_are_answered_and_dead_lettered(mesh: Mesh) -> None:
    await skymesh_user(mesh, "carol", "reader")
    await mesh.bus.dead_letters(1000)
    cases = {
        "stranger": ("servers.create", create_body(mesh), "unauthorized"),
        "carol": ("servers.create", create_body(mesh), "forbidden"),  # a reader cannot create
    }
    for principal, (topic, body, code) in cases.items():
        reply = await mesh.bus.send_command(topic, body, principal=principal)
        assert not reply["ok"] and reply["error"]["code"] == code, reply
    await skymesh_user(mesh, "dave", "member")
    bad = await mesh.bus.send_command("servers.create", b'{"name": ""}', principal="dave")
    assert bad["error"]["code"] == "invalid_message" and "servers.create" in bad["error"]["message"]
    unknown = await mesh.bus.send_command("servers.explode", b"{}", principal="dave")
    assert "unknown command" in unknown["error"]["message"]
    garbage = await mesh.bus.send_command("servers.create", b"[1, 2]", principal="dave")
    assert "JSON object" in garbage["error"]["message"]
    letters = await mesh.bus.dead_letters(100)
    reasons = [letter.reason for letter in letters]
    assert len(reasons) == 5 and any("unauthorized" in r for r in reasons)


async def test_a_domain_refusal_is_answered_not_dead_lettered(mesh: Mesh) -> None:
    await skymesh_user(mesh, "erin", "member")
    await mesh.bus.dead_letters(1000)
    body = orjson.dumps(
        {
            "name": "x",
            "flavor_id": str(uuid.uuid4()),
            "image_id": str(mesh.image_id),
            "networks": "none",
        }
    )
    reply = await mesh.bus.send_command("servers.create", body, principal="erin")
    assert reply["error"]["code"] == "not_found"
    await asyncio.sleep(0.05)
    assert await mesh.bus.dead_letters(100) == []


async def test_a_real_producer_over_rabbitmq(amqp_url: str, workflow_dsn: str, mesh: Mesh) -> None:
    """An external producer with aio-pika: RabbitMQ validates `user_id` (guest)."""
    from conductor.main import conductor_services
    from corebus.amqp.bus import AmqpBus
    from corebus.config import load_settings
    from corebus.service import ServiceRunner

    await skymesh_user(mesh, "guest", "member")
    settings = load_settings(None, database={"dsn": workflow_dsn})
    bus = AmqpBus(amqp_url, name="api-test-conductor")
    await bus.start()
    services = [
        s for s in conductor_services(mesh.pool, bus, settings) if type(s).__name__ == "ApiAdapter"
    ]
    runner = ServiceRunner(bus, services)
    await runner.start()
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        replies = await channel.declare_queue(exclusive=True)
        exchange = await channel.get_exchange("skymesh.api")
        body = orjson.dumps({"server_id": str(uuid.uuid4())})
        await exchange.publish(
            aio_pika.Message(
                body,
                user_id="guest",
                reply_to=replies.name,
                correlation_id="c-1",
                content_type="application/json",
            ),
            routing_key="servers.get",
        )
        message = await replies.get(timeout=10, fail=False)
        for _ in range(100):
            if message is not None:
                break
            await asyncio.sleep(0.05)
            message = await replies.get(fail=False)
        assert message is not None and message.correlation_id == "c-1"
        answer = orjson.loads(message.body)
        assert answer["ok"] is False and answer["error"]["code"] == "not_found"
    finally:
        await connection.close()
        await runner.stop()
        await bus.close()
