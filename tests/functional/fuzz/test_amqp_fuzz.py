"""The AMQP API fuzzed with hypothesis: generated bodies, envelopes and payloads are
published where the conductor and an agent consume (facts on `skymesh.events`, casts
to `conductor.<method>` and `node_agent.<host>.<method>`). Every one that can never
pass is dead-lettered with a reason naming what is wrong, and afterwards the conductor
and the agent still answer (no consumer crashed, no channel was lost)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corebus.amqp.bus import AmqpBus
from corebus.client import Client, ping
from corebus.envelope import Envelope, Kind, decode_any
from corebus.errors import InvalidMessage
from corebus.service import RpcDispatcher, validate_payload
from schemas.base import MESSAGES, Message
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply
from schemas.messages.facts import FACTS, Fact
from tests.functional.fuzz.amqp_mesh import (
    AmqpMesh,
    running_mesh,
    scratch_database,
    scratch_vhost,
)

pytestmark = pytest.mark.functional

HOST = "compute-1"
EXAMPLES = 60  # per target

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=24),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=16), json_values, max_size=6)


def fact_payload(model: type[Fact]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid-looking fact about an unknown instance with one field spoiled (or not)."""
    base = {
        "host": HOST,
        "resource_id": str(uuid.uuid4()),
        "seq": 1,
        "observed_at": "2026-01-01T00:00:00+00:00",
    }
    names = [*sorted(model.model_fields), "unexpected"]
    return st.builds(
        lambda key, value, drop: {**{k: v for k, v in base.items() if k != drop}, key: value},
        st.sampled_from(names),
        json_values,
        st.sampled_from([None, *base]),
    )


def envelope(schemas: st.SearchStrategy[str], bodies: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"kind": st.sampled_from(["cast", "event", "call", "bogus"]), "schema": schemas},
        optional={
            "version": st.integers(-3, 5) | json_values,
            "payload": bodies,
            "context": json_values,
            "deadline": json_values,
            "unexpected": json_values,
        },
    )


def raw_bodies(envelopes: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    """Mostly envelopes, some plain JSON that is no envelope, some garbage bytes."""
    return st.one_of(
        envelopes.map(orjson.dumps),
        envelopes.map(orjson.dumps),
        json_values.map(orjson.dumps),
        st.binary(max_size=64),
    )


def refusal(body: bytes, expected: type[Message] | None) -> bool | None:
    """Whether the consumer must refuse `body` (None: cannot tell, e.g. a batch)."""
    try:
        items = decode_any(body)
    except ValueError:
        return True
    if len(items) != 1:
        return None
    try:
        parsed = Envelope.model_validate(items[0])
    except Exception:
        return True
    if parsed.kind is Kind.CALL:
        return None  # answered with an error reply instead: see `_calls_are_answered`
    try:
        if expected is None:
            return True  # no such method
        validate_payload(parsed, expected)
    except Exception:
        return True
    return False


@pytest.mark.timeout(400)
async def test_generated_messages_are_dead_lettered_and_consumers_survive(
    pg_dsn: str, amqp_url: str, tmp_path: Path
) -> None:
    async with (
        scratch_vhost(amqp_url) as url,
        scratch_database(pg_dsn) as dsn,
        running_mesh(dsn, url, tmp_path) as mesh,
    ):
        sender = await mesh.bus()
        must_refuse: list[tuple[str, bytes]] = []
        calls: list[tuple[str, Envelope]] = []
        started = time.monotonic()
        for target in _targets(mesh):
            bodies = await asyncio.to_thread(_generate, target)
            for body in bodies:
                await sender.publish_raw(target.stream, body.topic, body.raw)
                if body.refuse:
                    must_refuse.append((target.name, body.raw))
                elif target.stream == "cast" and (call := _as_call(body.raw)) is not None:
                    calls.append((body.topic, call))
        await sender.flush()
        print(f"published, {len(must_refuse)} must be refused ({time.monotonic() - started:.0f}s)")
        await _all_dead_lettered(sender, must_refuse)
        await _calls_are_answered(sender, calls)
        # the consumers are still there and answer
        assert await ping(mesh.conductor_bus, "conductor", timeout=10)
        assert await ping(mesh.conductor_bus, f"node_agent.{HOST}", timeout=10)
        reply = await Client(sender).call("conductor.list_hosts", ListHosts(), ListHostsReply)
        assert HOST in {h.name for h in reply.hosts if h.is_up}


class Body:
    def __init__(self, raw: bytes, refuse: bool | None, topic: str = "") -> None:
        self.raw, self.refuse, self.topic = raw, refuse, topic


class Target:
    """Where generated messages go and what model the consumer expects there."""

    def __init__(
        self,
        name: str,
        stream: str,
        strategy: st.SearchStrategy[tuple[str, bytes]],
        expected: Any,
        allow_valid: bool,
    ) -> None:
        self.name, self.stream, self.strategy = name, stream, strategy
        self.expected, self.allow_valid = expected, allow_valid


def _targets(mesh: AmqpMesh) -> list[Target]:
    facts = sorted(FACTS)
    fact_bodies = st.sampled_from(facts).flatmap(
        lambda name: st.tuples(
            st.just(f"compute.{HOST}.{name}"),
            raw_bodies(
                envelope(
                    st.sampled_from([f"fact.{name}", "fact.instance.spawned"])
                    | st.text(max_size=20),
                    fact_payload(FACTS[name]) | payloads,
                )
            ),
        )
    )
    conductor = _methods(mesh.conductor_services)
    agent = _methods([s for s in mesh.agents[HOST].services() if s.name == f"node_agent.{HOST}"])
    return [
        Target("facts", "events", fact_bodies, lambda topic: Fact, allow_valid=True),
        Target("conductor casts", "cast", _casts("conductor", conductor), conductor.get, False),
        Target("agent casts", "cast", _casts(f"node_agent.{HOST}", agent), agent.get, False),
    ]


def _methods(services: list[Any]) -> dict[str, type[Message]]:
    dispatcher = RpcDispatcher(services)
    return {name: h.model for name, h in dispatcher.handlers.items()}


def _casts(service: str, methods: dict[str, type[Message]]) -> st.SearchStrategy[tuple[str, bytes]]:
    names = sorted(methods)
    known = sorted(n for n in MESSAGES)
    return st.tuples(
        st.sampled_from(names) | st.from_regex(r"\A[a-z_]{1,16}\Z"),
        raw_bodies(envelope(st.sampled_from(known) | st.text(max_size=20), payloads)),
    ).map(lambda pair: (f"{service}.{pair[0]}", pair[1]))


def _generate(target: Target) -> list[Body]:
    """Draw the target's examples (hypothesis runs in a thread: it is synchronous)."""
    drawn: list[Body] = []

    @given(target.strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def draw(pair: tuple[str, bytes]) -> None:
        topic, raw = pair
        method = topic.rsplit(".", 1)[-1]
        expected = target.expected(method) if target.stream == "cast" else Fact
        refuse = refusal(raw, expected)
        if refuse is False and not target.allow_valid:
            return  # a valid command would really run: not what this test is about
        drawn.append(Body(raw, refuse, topic))

    draw()
    return drawn


def _as_call(raw: bytes) -> Envelope | None:
    try:
        parsed = Envelope.model_validate(decode_any(raw)[0])
    except Exception:
        return None
    return parsed if parsed.kind is Kind.CALL else None


async def _calls_are_answered(bus: AmqpBus, calls: list[tuple[str, Envelope]]) -> None:
    """The same bad requests sent as calls get an error reply saying what is wrong."""
    assert calls, "the generator made no calls"
    for topic, request in calls[:40]:
        with pytest.raises(InvalidMessage) as refused:
            await bus.call(topic, request.model_copy(update={"deadline": None}), timeout=10)
        assert len(refused.value.message) > 10, refused.value.message


async def _all_dead_lettered(bus: AmqpBus, expected: list[tuple[str, bytes]]) -> None:
    """Every body in `expected` shows up on the dead-letter queue with a reason."""
    missing = {raw: name for name, raw in expected}
    reasons: dict[bytes, str] = {}
    deadline = time.monotonic() + 60
    while missing and time.monotonic() < deadline:
        for letter in await bus.dead_letters(limit=500):
            reasons[letter.body] = letter.reason
            missing.pop(letter.body, None)
        if missing:
            await asyncio.sleep(0.3)
    assert not missing, f"{len(missing)} refused messages were not dead-lettered: " + repr(
        list(missing.items())[:5]
    )
    for name, raw in expected:
        reason = reasons[raw]
        assert reason and reason != "unknown", (name, raw, reason)
        assert len(reason) > 10, (name, raw, reason)
