"""The Bus contract, run on the in-memory and the AMQP transport alike."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest

from corebus.bus import DeadLetter
from corebus.client import Client
from corebus.envelope import Envelope, Kind, RequestContext, envelope_for
from corebus.errors import DeadlineExceeded, InvalidMessage, NoConsumer
from corebus.service import ServiceRunner, rpc
from schemas.errors import InternalError, NotFound, RemoteError, SkymeshError
from tests.functional.bus.conftest import BusFactory, unique
from tests.functional.bus.messages import Echo, EchoReply, Tick

pytestmark = pytest.mark.functional


class EchoService:
    def __init__(self, name: str) -> None:
        self.name = name
        self.casts: list[str] = []
        self.in_flight = 0
        self.finished: list[str] = []

    @rpc
    async def echo(self, ctx: RequestContext, req: Echo) -> EchoReply:
        self.in_flight += 1
        try:
            if req.delay:
                await asyncio.sleep(req.delay)
            if req.text == "missing":
                raise NotFound("no such thing", thing="missing")
            if req.text == "boom":
                raise ValueError("kaboom")
            if req.text == "alien":
                err = SkymeshError("from a newer release")
                err.code = "alien_error"  # an error type this side never registered
                raise err
            self.finished.append(req.text)
            return EchoReply(text=req.text, request_id=ctx.request_id)
        finally:
            self.in_flight -= 1

    @rpc
    async def remember(self, ctx: RequestContext, req: Echo) -> None:
        self.casts.append(req.text)


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def start_service(bus, service) -> ServiceRunner:  # type: ignore[no-untyped-def]
    runner = ServiceRunner(bus, [service])
    await runner.start()
    return runner


async def test_call_round_trip_carries_context(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("echo"))
    runner = await start_service(server, svc)
    ctx = RequestContext(request_id="req-abc", project_id=uuid.uuid4())
    reply = await Client(caller, ctx).call(f"{svc.name}.echo", Echo(text="hi"), EchoReply)
    assert reply == EchoReply(text="hi", request_id="req-abc")
    await runner.stop()


async def test_call_without_consumer_fails_fast(make_bus: BusFactory) -> None:
    caller = await make_bus()
    started = time.monotonic()
    with pytest.raises(NoConsumer):
        await Client(caller).call(f"{unique('nobody')}.echo", Echo(text="x"), EchoReply, timeout=5)
    assert time.monotonic() - started < 1.0


async def test_call_to_stopped_service_fails_fast(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("gone"))
    runner = await start_service(server, svc)
    await runner.stop()
    started = time.monotonic()
    with pytest.raises(NoConsumer):
        await Client(caller).call(f"{svc.name}.echo", Echo(text="x"), EchoReply, timeout=5)
    assert time.monotonic() - started < 1.0


async def test_deadline_expires_on_time(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("slow"))
    runner = await start_service(server, svc)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        await Client(caller).call(
            f"{svc.name}.echo", Echo(text="x", delay=2), EchoReply, timeout=0.3
        )
    assert 0.25 < time.monotonic() - started < 1.0
    assert info.value.retryable
    await runner.stop()


async def test_remote_errors_come_back_typed(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("err"))
    runner = await start_service(server, svc)
    client = Client(caller)
    with pytest.raises(NotFound) as not_found:
        await client.call(f"{svc.name}.echo", Echo(text="missing"), EchoReply)
    assert not_found.value.details == {"thing": "missing"}
    with pytest.raises(InternalError, match="kaboom"):
        await client.call(f"{svc.name}.echo", Echo(text="boom"), EchoReply)
    with pytest.raises(RemoteError) as alien:
        await client.call(f"{svc.name}.echo", Echo(text="alien"), EchoReply)
    assert alien.value.details["remote_code"] == "alien_error"
    with pytest.raises(InvalidMessage, match="no method"):
        await client.call(f"{svc.name}.nonexistent", Echo(text="x"), EchoReply)
    await runner.stop()


async def test_invalid_call_payload_is_refused_with_reason(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("val"))
    runner = await start_service(server, svc)
    bad = Envelope(kind=Kind.CALL, schema="test.echo", payload={"text": "x", "delay": -1})
    with pytest.raises(InvalidMessage, match="delay"):
        await caller.call(f"{svc.name}.echo", bad, 5)
    wrong = Envelope(kind=Kind.CALL, schema="test.tick", payload={"n": 1})
    with pytest.raises(InvalidMessage, match="not accepted"):
        await caller.call(f"{svc.name}.echo", wrong, 5)
    newer = Envelope(kind=Kind.CALL, schema="test.echo", version=9, payload={"text": "x"})
    with pytest.raises(InvalidMessage, match="newer"):
        await caller.call(f"{svc.name}.echo", newer, 5)
    await runner.stop()


async def test_concurrent_calls_all_answered(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("many"))
    runner = await start_service(server, svc)
    client = Client(caller)
    replies = await asyncio.gather(
        *(client.call(f"{svc.name}.echo", Echo(text=str(i)), EchoReply) for i in range(300))
    )
    assert [r.text for r in replies] == [str(i) for i in range(300)]
    await runner.stop()


async def test_cast_is_kept_while_the_service_is_away(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("cast"))
    runner = await start_service(server, svc)
    await Client(caller).cast(f"{svc.name}.remember", Echo(text="one"))
    await wait_for(lambda: svc.casts == ["one"])
    await runner.stop()
    # the durable cast queue holds work while the service restarts
    await Client(caller).cast(f"{svc.name}.remember", Echo(text="two"))
    runner = await start_service(server, svc)
    await wait_for(lambda: svc.casts == ["one", "two"])
    await runner.stop()


async def test_cast_to_unknown_service_fails_fast(make_bus: BusFactory) -> None:
    caller = await make_bus()
    with pytest.raises(NoConsumer):
        await Client(caller).cast(f"{unique('nobody')}.remember", Echo(text="x"))


class Collector:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    async def __call__(self, topic: str, envelope: Envelope) -> None:
        self.seen.append((topic, Tick.model_validate(envelope.payload).n))


def tick(n: int) -> Envelope:
    return envelope_for(Tick(n=n), Kind.EVENT)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("compute.*.instance", ["compute.h1.instance"]),
        ("compute.#", ["compute.h1.instance", "compute.h1.instance.power", "compute"]),
        ("compute.*.instance.#", ["compute.h1.instance", "compute.h1.instance.power"]),
        ("#.power", ["compute.h1.instance.power"]),
        ("*.h1.#", ["compute.h1.instance", "compute.h1.instance.power", "network.h1.port"]),
        ("#", ["compute.h1.instance", "compute.h1.instance.power", "network.h1.port", "compute"]),
    ],
)
async def test_topic_routing(make_bus: BusFactory, pattern: str, expected: list[str]) -> None:
    bus = await make_bus()
    got = Collector()
    sub = await bus.subscribe("events", [pattern], got)
    topics = ["compute.h1.instance", "compute.h1.instance.power", "network.h1.port", "compute"]
    for i, topic in enumerate(topics):
        await bus.publish("events", topic, tick(i))
    await bus.publish("events", "sentinel.end", tick(99))
    marker = Collector()
    sub2 = await bus.subscribe("events", ["sentinel.#"], marker)
    await bus.publish("events", "sentinel.end", tick(100))
    await wait_for(lambda: marker.seen)
    await asyncio.sleep(0.1)
    assert sorted(t for t, _ in got.seen if t != "sentinel.end") == sorted(expected)
    await sub.cancel()
    await sub2.cancel()


async def test_group_consumers_share_broadcast_consumers_each_get_all(make_bus: BusFactory) -> None:
    one, two = await make_bus(), await make_bus()
    group = unique("grp")
    a, b, c, d = Collector(), Collector(), Collector(), Collector()
    subs = [
        await one.subscribe("events", ["share.#"], a, group=group),
        await two.subscribe("events", ["share.#"], b, group=group),
        await one.subscribe("events", ["share.#"], c),
        await two.subscribe("events", ["share.#"], d),
    ]
    await asyncio.gather(*(one.publish("events", "share.it", tick(i)) for i in range(200)))
    await wait_for(lambda: len(a.seen) + len(b.seen) == 200 and len(c.seen) == len(d.seen) == 200)
    shared = sorted(n for _, n in a.seen + b.seen)
    assert shared == list(range(200))  # each event exactly once across the group
    assert sorted(n for _, n in c.seen) == list(range(200))
    for sub in subs:
        await sub.cancel()


async def test_poison_messages_are_dead_lettered_and_consumer_survives(
    make_bus: BusFactory,
) -> None:
    bus = await make_bus()
    await bus.dead_letters(1000)  # start from an empty dead-letter queue
    got = Collector()
    topic = unique("poison")
    sub = await bus.subscribe("events", [f"{topic}.#"], got, group=unique("g"))
    await bus.publish_raw("events", f"{topic}.a", b"\xff not json")  # type: ignore[attr-defined]
    await bus.publish_raw("events", f"{topic}.b", orjson.dumps({"kind": "event"}))  # type: ignore[attr-defined]
    bad_payload = Envelope(kind=Kind.EVENT, schema="test.tick", payload={"n": -5})
    await bus.publish("events", f"{topic}.c", bad_payload)
    await bus.publish("events", f"{topic}.d", tick(7))
    await wait_for(lambda: got.seen == [(f"{topic}.d", 7)])
    letters = await take_dead_letters(bus, 3)
    reasons = {dl.topic: dl.reason for dl in letters}
    assert "undecodable" in reasons[f"{topic}.a"]
    assert "schema" in reasons[f"{topic}.b"]  # the envelope lacks its schema name
    assert "n" in reasons[f"{topic}.c"] and "greater than or equal" in reasons[f"{topic}.c"]
    await sub.cancel()


async def take_dead_letters(bus, count: int, timeout: float = 15.0) -> list[DeadLetter]:  # type: ignore[no-untyped-def]
    """Poll the dead-letter queue until `count` letters arrived."""
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + timeout
    while len(letters) < count:
        assert time.monotonic() < deadline, f"only {len(letters)} dead letters arrived"
        letters.extend(await bus.dead_letters(100))
        await asyncio.sleep(0.02)
    return letters


async def test_failing_handler_is_retried_then_dead_lettered(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.dead_letters(1000)
    attempts: list[int] = []

    async def flaky(topic: str, envelope: Envelope) -> None:
        attempts.append(1)
        raise RuntimeError("database is down")

    refused: list[int] = []

    async def refuses(topic: str, envelope: Envelope) -> None:
        refused.append(1)
        raise NotFound("instance vanished")

    topic = unique("flaky")
    sub1 = await bus.subscribe("events", [f"{topic}.retry"], flaky, group=unique("g"))
    sub2 = await bus.subscribe("events", [f"{topic}.refuse"], refuses, group=unique("g"))
    await bus.publish("events", f"{topic}.retry", tick(1))
    await bus.publish("events", f"{topic}.refuse", tick(2))
    letters = await take_dead_letters(bus, 2)
    assert len(refused) == 1  # a non-retryable refusal is not retried
    assert len(attempts) >= 3  # retried up to the delivery limit (3 in these tests)
    by_topic = {dl.topic: dl.reason for dl in letters}
    assert "not_found" in by_topic[f"{topic}.refuse"]
    assert by_topic[f"{topic}.retry"]
    await sub1.cancel()
    await sub2.cancel()


async def test_many_events_arrive_individually(make_bus: BusFactory) -> None:
    bus = await make_bus()
    got = Collector()
    topic = unique("burst")
    sub = await bus.subscribe("events", [f"{topic}.*"], got, group=unique("g"))
    await asyncio.gather(*(bus.publish("events", f"{topic}.x", tick(i)) for i in range(1000)))
    await bus.flush()
    await wait_for(lambda: len(got.seen) >= 1000)
    assert sorted(n for _, n in got.seen) == list(range(1000))
    await sub.cancel()


async def test_stop_waits_for_work_in_flight(make_bus: BusFactory) -> None:
    server, caller = await make_bus(), await make_bus()
    svc = EchoService(unique("grace"))
    runner = await start_service(server, svc)
    call = asyncio.create_task(
        Client(caller).call(f"{svc.name}.echo", Echo(text="slow", delay=0.5), EchoReply)
    )
    await wait_for(lambda: svc.in_flight == 1)
    await runner.stop()
    assert svc.finished == ["slow"]  # the handler finished before stop returned
    assert (await call).text == "slow"
