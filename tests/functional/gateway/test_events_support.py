"""Helpers of the event stream tests (no tests here): booting and deleting servers
through the conductor, an SSE reader, the outbox's sequences, and a second gateway
with its own settings on the same cloud."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from conductor.db.queries import flavors
from corebus.client import Client
from corebus.config import GatewaySettings
from corebus.envelope import RequestContext
from gateway.app import build_app
from schemas.messages.common import Accepted
from schemas.messages.conductor_servers import CreateServer, CreateServerReply, DeleteServer
from tests.functional.gateway.cloud import Account, Cloud


@dataclass(frozen=True)
class Event:
    id: int | None
    event: str
    data: Any


def context(who: Account) -> RequestContext:
    return RequestContext(
        user_id=who.user_id,
        project_id=who.project_id,
        roles=(who.role,),
        is_admin=who.role == "admin",
    )


async def boot(cloud: Cloud, who: Account, name: str = "vm") -> uuid.UUID:
    """Create a server without networks through the conductor (fast, fake drivers)."""
    async with cloud.pool.acquire() as conn:
        flavor = await flavors.get_flavor_by_name(conn, "m1.tiny")
        image = await conn.fetchval("SELECT id FROM images WHERE name = 'busybox'")
    assert flavor is not None and image is not None
    request = CreateServer(name=name, flavor_id=flavor["id"], image_id=image, networks="none")
    reply = await Client(cloud.bus).call(
        "conductor.create_server", request, CreateServerReply, context=context(who)
    )
    return reply.server_ids[0]


async def delete(cloud: Cloud, who: Account, server: uuid.UUID) -> None:
    await Client(cloud.bus).call(
        "conductor.delete_server", DeleteServer(server_id=server), Accepted, context=context(who)
    )


async def last_sequence(cloud: Cloud) -> int:
    async with cloud.pool.acquire() as conn:
        last: int = await conn.fetchval("SELECT last_seq FROM notification_sequence")
    return last


async def published_through(cloud: Cloud, at_least: int, timeout: float = 15.0) -> None:
    """Wait until every outbox row up to `at_least` is numbered and published."""
    deadline = time.monotonic() + timeout
    while True:
        async with cloud.pool.acquire() as conn:
            done = (
                await conn.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
                and await conn.fetchval("SELECT last_seq FROM notification_sequence") >= at_least
            )
        if done:
            return
        assert time.monotonic() < deadline, "the relay never caught up"
        await asyncio.sleep(0.05)


async def sequences_of(cloud: Cloud, project_id: uuid.UUID, after: int) -> list[int]:
    """The outbox sequences of `project_id` after `after`, in order."""
    async with cloud.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT published_seq FROM outbox WHERE published_seq > $1 "
            "AND payload #>> '{body,payload,tenant_id}' = $2 ORDER BY published_seq",
            after,
            str(project_id),
        )
    return [row["published_seq"] for row in rows]


async def read_events(response: aiohttp.ClientResponse) -> AsyncIterator[Event]:
    """Parse a text/event-stream; comments come out as Event(None, ":", text)."""
    fields: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith(":"):
            yield Event(None, ":", line[1:].strip())
            continue
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if fields:
            data = fields.get("data")
            yield Event(
                int(fields["id"]) if "id" in fields else None,
                fields.get("event", "message"),
                orjson.loads(data) if data else None,
            )
            fields = {}


async def collect(
    response: aiohttp.ClientResponse,
    until: Any,
    timeout: float = 15.0,
) -> list[Event]:
    """Events (comments left out) until `until(events)` holds."""
    events: list[Event] = []

    async def gather() -> None:
        async for event in read_events(response):
            if event.event != ":":
                events.append(event)
                if until(events):
                    return

    await asyncio.wait_for(gather(), timeout)
    return events


def ws_url(cloud_url: str) -> str:
    return cloud_url.replace("http://", "ws://", 1)


@asynccontextmanager
async def gateway_with(cloud: Cloud, **settings: Any) -> AsyncIterator[str]:
    """A second gateway on the cloud's bus with `settings` changed; its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    conf = GatewaySettings(port=0, token_cache_s=0.5, **settings)
    runner = web.AppRunner(build_app(conf, cloud.bus, url), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield url
    finally:
        await runner.cleanup()
