"""Retention: the conductor purges old notifications; a resume point that fell out of
the kept history is refused with a clear "resync" (SSE 410, WebSocket 4410)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from conductor.event_replay import EventReplay
from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_events_support import (
    boot,
    collect,
    last_sequence,
    published_through,
    ws_url,
)

pytestmark = pytest.mark.functional


async def keep_only(cloud: Cloud, rows: int) -> int:
    """Purge all but the newest `rows` notifications; the last sequence."""
    server = await boot(cloud, cloud.demo)
    for _ in range(300):  # the build is over once its create.end is in the outbox
        async with cloud.pool.acquire() as conn:
            done = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = 'instance.create.end' "
                "AND payload #>> '{body,payload,uuid}' = $1",
                str(server),
            )
        if done:
            break
        await asyncio.sleep(0.05)
    await published_through(cloud, await last_sequence(cloud))
    purger = EventReplay(cloud.pool, retention_s=3600, retention_count=rows, purge_interval_s=60)
    assert await purger.purge() > 0
    async with cloud.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == rows
    return await last_sequence(cloud)


async def test_resume_point_older_than_the_retention_is_410(cloud: Cloud) -> None:
    last = await keep_only(cloud, 1)
    gone = await cloud.request("GET", "/v1/events", cloud.demo, headers={"Last-Event-ID": "0"})
    assert gone.status == 410, gone
    assert "resync" in gone.body["error"]["message"]
    assert f"oldest kept is {last}" in gone.body["error"]["message"]
    ahead = await cloud.request("GET", f"/v1/events?after={last + 100}", cloud.demo)
    assert ahead.status == 410, ahead
    url = f"{cloud.url}/v1/events?after={last - 1}"  # just inside: replays the last one
    async with cloud.http.get(url, headers=cloud.admin.headers) as response:
        assert response.status == 200


async def test_websocket_resume_point_older_than_the_retention_closes_4410(cloud: Cloud) -> None:
    await keep_only(cloud, 1)
    url = ws_url(cloud.url) + "/v1/events/ws?after=0"
    async with cloud.http.ws_connect(url, headers=cloud.demo.headers) as ws:
        message = await asyncio.wait_for(ws.receive(), 10)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4410
        assert "resync" in str(message.extra)


async def test_purge_keeps_a_gap_free_suffix_that_replay_serves(cloud: Cloud) -> None:
    last = await keep_only(cloud, 3)
    async with cloud.pool.acquire() as conn:
        kept = [r["published_seq"] for r in await conn.fetch("SELECT published_seq FROM outbox")]
    assert sorted(kept) == [last - 2, last - 1, last]
    url = f"{cloud.url}/v1/events?all_projects=1&after={last - 3}"
    async with cloud.http.get(url, headers=cloud.admin.headers) as response:
        events = await collect(response, lambda got: got[-1].id == last)
    assert [e.id for e in events] == [last - 2, last - 1, last]
