"""Per-agent RabbitMQ users: an agent connected as `agent-<host>` works normally (it
registers, heartbeats, publishes its facts), but the broker refuses a fact routed as
another host's (channel closed with ACCESS_REFUSED), consuming another agent's queue,
and calling conductor methods an agent has no business calling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import aiormq.exceptions
import pytest

from corebus.agent_users import agent_url, delete_agent_user, ensure_agent_user
from corebus.amqp.admin import vhost_of
from tests.functional.fuzz.amqp_mesh import running_mesh, scratch_database, scratch_vhost

pytestmark = pytest.mark.functional

REFUSED = (
    aiormq.exceptions.ChannelAccessRefused,
    aiormq.exceptions.ChannelClosed,
)


@pytest.fixture
async def vhost_url(amqp_url: str) -> AsyncIterator[str]:
    async with scratch_vhost(amqp_url) as url:
        yield url


async def refused_publish(url: str, exchange: str, routing_key: str) -> bool:
    """Publish one message as the URL's user; True when the broker refuses it."""
    connection = await aio_pika.connect(url, timeout=10)
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange, ensure=False)
        try:
            await target.publish(aio_pika.Message(b"{}"), routing_key, timeout=10)
            await channel.close()
        except REFUSED as exc:
            assert "ACCESS_REFUSED" in str(exc) or "access" in str(exc).lower(), exc
            return True
        return False
    finally:
        await connection.close()


async def refused_consume(url: str, queue: str) -> bool:
    connection = await aio_pika.connect(url, timeout=10)
    try:
        channel = await connection.channel()
        try:
            declared = await channel.get_queue(queue, ensure=True)
            await declared.get(fail=False)
        except REFUSED:
            return True
        return False
    finally:
        await connection.close()


async def test_an_agent_publishes_only_its_own_facts(
    pg_dsn: str, vhost_url: str, tmp_path: Path
) -> None:
    vhost = vhost_of(vhost_url)
    hosts = (f"c1-{uuid.uuid4().hex[:6]}", f"c2-{uuid.uuid4().hex[:6]}")
    passwords = {h: await ensure_agent_user(vhost, h, roles=("compute",)) for h in hosts}
    try:
        urls = {h: agent_url(vhost_url, h, passwords[h]) for h in hosts}
        async with (
            scratch_database(pg_dsn) as dsn,
            running_mesh(dsn, vhost_url, tmp_path, hosts, agent_url=urls.__getitem__) as mesh,
        ):
            # both agents registered as their own users (running_mesh waited for it)
            assert set(mesh.agents) == set(hosts)
            mine, theirs = hosts
            fact = "instance.power_state"
            assert not await refused_publish(urls[mine], "skymesh.events", f"compute.{mine}.{fact}")
            assert await refused_publish(urls[mine], "skymesh.events", f"compute.{theirs}.{fact}")
            # a host name that merely starts with the agent's own is another host
            assert await refused_publish(
                urls[mine], "skymesh.events", f"compute.{mine}.evil.{fact}"
            )
            assert await refused_publish(urls[mine], "skymesh.rpc", "conductor.delete_server")
            assert await refused_publish(urls[mine], "skymesh.api", "servers.create")
            assert await refused_consume(urls[mine], f"cast.node_agent.{theirs}")
            assert not await refused_consume(urls[mine], f"cast.node_agent.{mine}")
    finally:
        for host in hosts:
            await delete_agent_user(vhost_of(vhost_url), host)


async def test_a_wrong_password_is_refused(vhost_url: str) -> None:
    host = f"c3-{uuid.uuid4().hex[:6]}"
    await ensure_agent_user(vhost_of(vhost_url), host)
    try:
        with pytest.raises((aiormq.exceptions.ProbableAuthenticationError, ConnectionError)):
            await aio_pika.connect(agent_url(vhost_url, host, "not-the-password"), timeout=10)
    finally:
        await delete_agent_user(vhost_of(vhost_url), host)
