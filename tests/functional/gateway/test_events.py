"""Live event streams through the gateway: SSE and WebSocket, filtered by project and
event type, authenticated by header or `?token=`."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from corebus.client import Client
from schemas.messages.conductor_events import ReplayNotifications, ReplayNotificationsReply
from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_events_support import (
    Event,
    boot,
    collect,
    context,
    last_sequence,
    published_through,
    ws_url,
)

pytestmark = pytest.mark.functional


def created(server: object) -> object:
    def done(events: list[Event]) -> bool:
        return any(
            e.event == "instance.create.end" and e.data["payload"]["uuid"] == str(server)
            for e in events
        )

    return done


async def test_sse_streams_a_servers_notifications_in_sequence_order(cloud: Cloud) -> None:
    async with cloud.http.get(cloud.url + "/v1/events", headers=cloud.demo.headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["X-OpenStack-Request-ID"].startswith("req-")
        server = await boot(cloud, cloud.demo)
        events = await collect(response, created(server))
    mine = [e for e in events if e.data["payload"]["uuid"] == str(server)]
    assert [e.event for e in mine] == ["instance.create.start", "instance.create.end"]
    ids = [e.id for e in events if e.id is not None]
    assert len(ids) == len(events) and ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e.data["sequence"] == e.id and e.data["event_type"] == e.event for e in events)


async def test_websocket_takes_the_token_from_the_query(cloud: Cloud) -> None:
    url = ws_url(cloud.url) + f"/v1/events/ws?token={cloud.demo.token}"
    async with cloud.http.ws_connect(url) as ws:
        server = await boot(cloud, cloud.demo)
        frames: list[dict[str, object]] = []
        while not any(f["event_type"] == "instance.create.end" for f in frames):
            message = await asyncio.wait_for(ws.receive(), 15)
            assert message.type is aiohttp.WSMsgType.TEXT, message
            frames.append(message.json())
    mine = [f for f in frames if f["payload"]["uuid"] == str(server)]  # type: ignore[index]
    assert [f["event_type"] for f in mine] == ["instance.create.start", "instance.create.end"]
    seqs = [f["sequence"] for f in frames]
    assert seqs == sorted(seqs)  # type: ignore[type-var]


async def test_other_projects_see_nothing_and_admins_see_all_on_request(cloud: Cloud) -> None:
    other = await cloud.new_account()
    start = await last_sequence(cloud)
    url = cloud.url + "/v1/events"
    async with (
        cloud.http.get(url, headers=other.headers) as stranger,
        cloud.http.get(url + "?all_projects=1", headers=cloud.admin.headers) as admin,
        cloud.http.get(url, headers=cloud.admin.headers) as admin_own,
    ):
        server = await boot(cloud, cloud.demo)
        seen = await collect(admin, created(server))
        assert {e.data["payload"]["tenant_id"] for e in seen} >= {str(cloud.demo.project_id)}
        await published_through(cloud, start + 2)
        for quiet in (stranger, admin_own):  # nothing of demo's, live...
            with pytest.raises(TimeoutError):
                await collect(quiet, lambda events: bool(events), timeout=0.5)
    replay = f"{url}?after={start}"  # ...nor replayed
    async with cloud.http.get(replay, headers=other.headers) as stranger:
        with pytest.raises(TimeoutError):
            await collect(stranger, lambda events: bool(events), timeout=0.5)


async def test_type_patterns_filter_live_and_replayed_events(cloud: Cloud) -> None:
    start = await last_sequence(cloud)
    url = cloud.url + "/v1/events?types=instance.create.e*,volume.*"
    async with cloud.http.get(url, headers=cloud.demo.headers) as response:
        server = await boot(cloud, cloud.demo)
        live = await collect(response, created(server))
    assert {e.event for e in live} == {"instance.create.end"}
    async with cloud.http.get(f"{url}&after={start}", headers=cloud.demo.headers) as response:
        replayed = await collect(response, created(server))
    assert [e.id for e in replayed] == [e.id for e in live]


async def test_bad_requests_are_refused_before_streaming(cloud: Cloud) -> None:
    bad_type = await cloud.request("GET", "/v1/events?types=Instance%2B", cloud.demo)
    assert bad_type.status == 400 and "pattern" in bad_type.body["error"]["message"]
    bad_id = await cloud.request("GET", "/v1/events", cloud.demo, headers={"Last-Event-ID": "x"})
    assert bad_id.status == 400
    negative = await cloud.request("GET", "/v1/events?after=-1", cloud.demo)
    assert negative.status == 400
    huge = await cloud.request("GET", f"/v1/events?after={2**64}", cloud.demo)
    assert huge.status == 400
    anonymous = await cloud.request("GET", "/v1/events")
    assert anonymous.status == 401
    wrong = await cloud.request("GET", "/v1/events?token=" + "x" * 40)
    assert wrong.status == 401


async def test_query_token_is_refused_outside_the_event_routes(cloud: Cloud) -> None:
    answer = await cloud.request("GET", f"/compute/v2.1/flavors?token={cloud.demo.token}")
    assert answer.status == 401


async def test_conductor_scopes_replay_whatever_the_caller_claims(cloud: Cloud) -> None:
    start = await last_sequence(cloud)
    await boot(cloud, cloud.demo)
    await published_through(cloud, start + 1)
    other = await cloud.new_account(role="reader")
    claims = context(other).model_copy(update={"all_tenants": True})  # not an admin
    reply = await Client(cloud.bus).call(
        "conductor.replay_notifications",
        ReplayNotifications(after=start),
        ReplayNotificationsReply,
        context=claims,
    )
    assert reply.notifications == () and reply.complete
    mine = await Client(cloud.bus).call(
        "conductor.replay_notifications",
        ReplayNotifications(after=start, types=("instance.create.*",)),
        ReplayNotificationsReply,
        context=context(cloud.demo),
    )
    assert mine.notifications and all(
        n.event_type.startswith("instance.create.") for n in mine.notifications
    )
    async with cloud.http.get(cloud.url + "/v1/events", headers=other.headers) as reader:
        assert reader.status == 200  # readers may watch their own project
