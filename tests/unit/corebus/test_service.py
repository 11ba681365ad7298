"""The service runner's markers and payload validation, on the in-memory bus."""

import pytest

from corebus.client import Client
from corebus.envelope import Envelope, Kind, RequestContext
from corebus.errors import InvalidMessage
from corebus.memory import InMemoryBus
from corebus.service import RpcDispatcher, ServiceRunner, event_handler, payload_model, rpc
from schemas.base import Message


class Add(Message):
    message_name = "unit.add"
    a: int
    b: int


class Sum(Message):
    message_name = "unit.sum"
    total: int


class Calculator:
    name = "calc"

    @rpc
    async def add(self, ctx: RequestContext, req: Add) -> Sum:
        return Sum(total=req.a + req.b)


class MoreCalculator:
    name = "calc"

    @rpc
    async def double(self, ctx: RequestContext, req: Add) -> Sum:
        return Sum(total=2 * (req.a + req.b))


async def test_marked_methods_stay_directly_callable() -> None:
    assert await Calculator().add(RequestContext(), Add(a=1, b=2)) == Sum(total=3)
    assert payload_model(Calculator.add) is Add


async def test_services_of_one_name_share_a_queue() -> None:
    bus = InMemoryBus()
    runner = ServiceRunner(bus, [Calculator(), MoreCalculator()])
    await runner.start()
    client = Client(bus)
    assert (await client.call("calc.add", Add(a=1, b=2), Sum)).total == 3
    assert (await client.call("calc.double", Add(a=1, b=2), Sum)).total == 6
    await runner.stop()


def test_a_method_defined_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="twice"):
        RpcDispatcher([Calculator(), Calculator()])


async def test_unannotated_payload_is_refused_at_wiring() -> None:
    class Sloppy:
        name = "sloppy"

        @rpc
        async def go(self, ctx, req):  # type: ignore[no-untyped-def]
            return None

    with pytest.raises(TypeError, match="annotate"):
        RpcDispatcher([Sloppy()])


async def test_validation_errors_name_the_field() -> None:
    dispatcher = RpcDispatcher([Calculator()])
    bad = Envelope(kind=Kind.CAST, schema="unit.add", payload={"a": 1, "b": "two"})
    with pytest.raises(InvalidMessage, match="b"):
        await dispatcher("calc.add", bad)


class Watcher:
    name = "watcher"

    def __init__(self) -> None:
        self.sums: list[int] = []

    @event_handler("events", "calc.*.done", group="watchers")
    async def on_done(self, ctx: RequestContext, fact: Sum) -> None:
        self.sums.append(fact.total)


async def test_event_handlers_get_validated_payloads() -> None:
    import asyncio

    bus = InMemoryBus()
    watcher = Watcher()
    runner = ServiceRunner(bus, [watcher])
    await runner.start()
    client = Client(bus)
    await client.publish("events", "calc.h1.done", Sum(total=5))
    await client.publish("events", "calc.h1.other", Sum(total=6))  # not bound
    await bus.publish(
        "events",
        "calc.h2.done",
        Envelope(kind=Kind.EVENT, schema="unit.sum", payload={"total": "x"}),
    )
    for _ in range(100):
        if watcher.sums and await bus.dead_letters():
            break
        await asyncio.sleep(0.01)
    assert watcher.sums == [5]
    await runner.stop()


class TwoWatchers:
    name = "two"

    def __init__(self) -> None:
        self.a: list[int] = []
        self.b: list[int] = []

    @event_handler("events", "calc.#", group="same")
    async def first(self, ctx: RequestContext, fact: Sum) -> None:
        self.a.append(fact.total)

    @event_handler("events", "calc.#", group="same")
    async def second(self, ctx: RequestContext, fact: Sum) -> None:
        self.b.append(fact.total)


async def test_handlers_of_one_group_each_get_every_event() -> None:
    import asyncio

    bus = InMemoryBus()
    watchers = TwoWatchers()
    runner = ServiceRunner(bus, [watchers])
    await runner.start()
    for n in range(20):
        await Client(bus).publish("events", "calc.h.done", Sum(total=n))
    for _ in range(100):
        if len(watchers.a) == len(watchers.b) == 20:
            break
        await asyncio.sleep(0.01)
    assert sorted(watchers.a) == sorted(watchers.b) == list(range(20))
    await runner.stop()
