"""Signed facts on the real broker: agents sign what they publish with their own key
(derived from the conductor's master secret), and the conductor dead-letters facts
that are unsigned, signed with another host's key, or published under another host's
routing key, with the reason, while the agent's own facts go through."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conductor.ingest import FactIngestor
from corebus.amqp.bus import AmqpBus
from corebus.client import Client
from corebus.signing import Signer, Verifier, agent_key, new_master_key
from schemas.instance_state import PowerState
from schemas.messages.facts import InstancePowerStateChanged
from tests.functional.fuzz.amqp_mesh import AmqpMesh, running_mesh, scratch_database, scratch_vhost

pytestmark = pytest.mark.functional


def fact(host: str) -> InstancePowerStateChanged:
    return InstancePowerStateChanged(
        host=host,
        resource_id=uuid.uuid4(),
        seq=1,
        observed_at=datetime.now(UTC),
        power_state=PowerState.RUNNING,
    )


async def reasons_for(bus: AmqpBus, ids: set[str], timeout: float = 20) -> dict[str, str]:
    """The dead-letter reasons of the facts about `ids` (by resource id)."""
    import orjson

    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while set(found) != ids and time.monotonic() < deadline:
        for letter in await bus.dead_letters(limit=200):
            for item in (
                orjson.loads(letter.body)
                if letter.body.startswith(b"[")
                else [orjson.loads(letter.body)]
            ):
                rid = item.get("payload", {}).get("resource_id")
                if rid in ids:
                    found[rid] = letter.reason
        await asyncio.sleep(0.2)
    return found


def ingestor(mesh: AmqpMesh) -> FactIngestor:
    (found,) = [s for s in mesh.conductor_services if isinstance(s, FactIngestor)]
    return found


async def test_only_facts_signed_by_their_host_are_ingested(
    pg_dsn: str, amqp_url: str, tmp_path: Path
) -> None:
    master = new_master_key()
    async with (
        scratch_vhost(amqp_url) as url,
        scratch_database(pg_dsn) as dsn,
        running_mesh(
            dsn,
            url,
            tmp_path,
            ("compute-1", "compute-2"),
            agent_options=lambda host: {"signer": Signer(agent_key(master, host))},
            conductor_options={"verifier": Verifier(master.encode())},
        ) as mesh,
    ):
        # the agents registered and published their snapshots: all of it verified
        assert await mesh.conductor_bus.dead_letters() == []
        ingest = ingestor(mesh)
        seen_before = ingest.applied + ingest.dropped

        honest = await mesh.bus(signer=Signer(agent_key(master, "compute-1")))
        forger = await mesh.bus(signer=Signer(agent_key(master, "compute-2")))
        unsigned = await mesh.bus()
        good, stolen, bare, rerouted = (
            fact("compute-1"),
            fact("compute-1"),
            fact("compute-1"),
            (fact("compute-1")),
        )
        topic = good.routing_key()
        await Client(honest).publish("events", topic, good)
        await Client(forger).publish("events", topic, stolen)  # compute-2's key
        await Client(unsigned).publish("events", topic, bare)
        # compute-2 signs its own fact about compute-1 but routes it as compute-2's
        await Client(forger).publish(
            "events", "compute.compute-2.instance.power_state", rerouted.model_copy()
        )
        for bus in (honest, forger, unsigned):
            await bus.flush()

        refused = await reasons_for(
            mesh.conductor_bus,
            {str(stolen.resource_id), str(bare.resource_id), str(rerouted.resource_id)},
        )
        assert "bad signature" in refused[str(stolen.resource_id)]
        assert "unsigned fact" in refused[str(bare.resource_id)]
        assert "published as host 'compute-2'" in refused[str(rerouted.resource_id)]
        # the honest fact was taken (and dropped: no such instance), not dead-lettered
        deadline = time.monotonic() + 10
        while ingest.applied + ingest.dropped == seen_before:
            assert time.monotonic() < deadline, "the signed fact never reached the ingestor"
            await asyncio.sleep(0.1)
        assert str(good.resource_id) not in await reasons_for(
            mesh.conductor_bus, {str(good.resource_id)}, timeout=1
        )


def test_keys_are_per_host_and_stable() -> None:
    master = new_master_key()
    assert agent_key(master, "compute-1") == agent_key(master, "compute-1")
    assert agent_key(master, "compute-1") != agent_key(master, "compute-2")
    assert agent_key(master, "compute-1") != agent_key(new_master_key(), "compute-1")
