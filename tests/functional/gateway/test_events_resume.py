"""Resuming event streams across a forced disconnect: no notification missed, none
repeated; slow subscribers cut off with a clear overflow; keepalives when idle."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from corebus.envelope import Envelope, Kind
from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_events_support import (
    Event,
    boot,
    collect,
    delete,
    gateway_with,
    last_sequence,
    published_through,
    read_events,
    sequences_of,
    ws_url,
)

pytestmark = pytest.mark.functional


async def churn(cloud: Cloud, servers: int) -> None:
    """Boot servers and delete them again, a few at a time, while streams run."""
    booted: list[uuid.UUID] = []
    for n in range(servers):
        booted.append(await boot(cloud, cloud.demo, f"churn-{n}"))
        await asyncio.sleep(0.05)
        if n % 2:
            await delete(cloud, cloud.demo, booted.pop(0))


async def test_sse_resume_after_a_forced_disconnect_misses_and_repeats_nothing(
    cloud: Cloud,
) -> None:
    await published_through(cloud, 0)
    start = await last_sequence(cloud)
    url = cloud.url + "/v1/events"
    burst = asyncio.create_task(churn(cloud, 8))
    headers = {**cloud.demo.headers, "Last-Event-ID": str(start)}
    async with cloud.http.get(url, headers=headers) as response:
        first = await collect(response, lambda events: len(events) >= 5)
        response.connection.transport.abort()  # type: ignore[union-attr]  # mid-burst
    assert not burst.done(), "the burst ended before the disconnect: make it longer"
    assert first[-1].id is not None
    await published_through(cloud, first[-1].id + 3)  # missed: replay must bring them
    resume = {**cloud.demo.headers, "Last-Event-ID": str(first[-1].id)}
    async with cloud.http.get(url, headers=resume) as response:
        await burst
        await published_through(cloud, start)
        expected = await sequences_of(cloud, cloud.demo.project_id, start)
        second = await collect(response, lambda events: events[-1].id == expected[-1])
    got = [e.id for e in first] + [e.id for e in second]
    assert got == expected  # in order, none missing, none twice
    assert len(expected) >= 16


async def test_websocket_resumes_with_after(cloud: Cloud) -> None:
    await published_through(cloud, 0)
    start = await last_sequence(cloud)
    await boot(cloud, cloud.demo)
    await boot(cloud, cloud.demo)
    base = ws_url(cloud.url) + "/v1/events/ws"
    async with cloud.http.ws_connect(f"{base}?after={start}", headers=cloud.demo.headers) as ws:
        first = (await asyncio.wait_for(ws.receive_json(), 15))["sequence"]
    async with cloud.http.ws_connect(f"{base}?after={first}", headers=cloud.demo.headers) as ws:
        await published_through(cloud, start)
        expected = await sequences_of(cloud, cloud.demo.project_id, start)
        rest: list[int] = []
        while not rest or rest[-1] < expected[-1]:
            rest.append((await asyncio.wait_for(ws.receive_json(), 15))["sequence"])
    assert [first, *rest] == expected


def fake_notification(seq: int, project: uuid.UUID) -> Envelope:
    """What the relay publishes, for driving the hub faster than a client reads."""
    return Envelope(
        message_id=f"notification-{seq}",
        kind=Kind.EVENT,
        schema="notification.instance",
        payload={
            "sequence": seq,
            "event_type": "instance.update",
            "timestamp": datetime.now(UTC).isoformat(),
            "payload": {"uuid": str(uuid.uuid4()), "tenant_id": str(project)},
        },
    )


async def burst_in_one_tick(cloud: Cloud, first: int, count: int) -> None:
    """Notifications for demo, all published before the gateway runs again (the
    in-memory bus's publish never suspends): the hub fans them out in one go."""
    for seq in range(first, first + count):
        note = fake_notification(seq, cloud.demo.project_id)
        await cloud.bus.publish("notifications", "instance.update", note)


async def test_slow_sse_subscriber_gets_overflow_then_is_closed(cloud: Cloud) -> None:
    start = await last_sequence(cloud)
    async with gateway_with(cloud, event_queue_limit=2) as url:
        headers = {**cloud.demo.headers, "Last-Event-ID": str(start)}
        async with cloud.http.get(url + "/v1/events", headers=headers) as response:
            assert response.status == 200
            await burst_in_one_tick(cloud, start + 1000, 5)
            events: list[Event] = [e async for e in read_events(response)]  # ends: closed
    assert events[-1].event == "overflow"
    assert events[-1].id is None and events[-1].data["last_event_id"] == start
    assert "Last-Event-ID" in events[-1].data["message"]


async def test_slow_websocket_subscriber_is_closed_with_4429(cloud: Cloud) -> None:
    async with gateway_with(cloud, event_queue_limit=2) as url:
        async with cloud.http.ws_connect(
            ws_url(url) + "/v1/events/ws", headers=cloud.demo.headers
        ) as ws:
            await asyncio.sleep(0.1)
            await burst_in_one_tick(cloud, 10_000, 5)
            message = await asyncio.wait_for(ws.receive(), 10)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4429


async def test_idle_sse_stream_sends_keepalive_comments(cloud: Cloud) -> None:
    async with gateway_with(cloud, event_keepalive_s=0.2) as url:
        async with cloud.http.get(url + "/v1/events", headers=cloud.demo.headers) as response:
            comments: list[str] = []
            async for event in read_events(response):
                comments.append(str(event.data))
                if len(comments) == 2:
                    break
    assert comments == ["keepalive", "keepalive"]


async def test_gateway_shutdown_ends_open_streams_promptly(cloud: Cloud) -> None:
    async with gateway_with(cloud) as url:
        response = await cloud.http.get(url + "/v1/events", headers=cloud.demo.headers)
    # the runner's cleanup returned without waiting for the stream's client
    assert await asyncio.wait_for(response.content.read(), 5) == b""
    response.release()
