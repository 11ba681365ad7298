"""Asking every agent for its snapshot, for the audit (conductor/audit.py).

The audit subscribes to `skymesh.events` for `agent.snapshot` facts on a queue of its own
(so the conductors' fact ingestion gets its copy as usual), casts `request_snapshot` to
each host's agent and waits until every one answered or the timeout passed. A host whose
agent does not answer is reported by name: the audit compares nothing for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from corebus.bus import Bus
from corebus.client import Client
from corebus.envelope import Envelope
from schemas.errors import SkymeshError
from schemas.messages.agent_compute import RequestSnapshot
from schemas.messages.host_facts import AgentSnapshot


@dataclass
class Snapshots:
    asked_at: datetime
    by_host: dict[str, AgentSnapshot] = field(default_factory=dict)
    silent: list[str] = field(default_factory=list)  # hosts whose agent did not answer


async def collect(bus: Bus, hosts: list[str], timeout: float = 10.0) -> Snapshots:
    """A fresh snapshot from each of `hosts` (those that answer within `timeout`)."""
    wanted = set(hosts)
    result = Snapshots(asked_at=datetime.now(UTC))
    complete = asyncio.Event()

    async def on_event(_topic: str, envelope: Envelope) -> None:
        if envelope.schema != AgentSnapshot.message_name:
            return
        snapshot = AgentSnapshot.model_validate(envelope.payload)
        if snapshot.host in wanted:  # published after we subscribed: a fresh one
            result.by_host[snapshot.host] = snapshot
            if wanted <= result.by_host.keys():
                complete.set()

    subscription = await bus.subscribe("events", ["#.agent.snapshot"], on_event)
    try:
        client = Client(bus)
        for host in sorted(wanted):
            with contextlib.suppress(SkymeshError):  # no agent consuming: silent
                await client.cast(
                    f"node_agent.{host}.request_snapshot",
                    RequestSnapshot(host=host, reason="audit"),
                )
        if wanted:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(complete.wait(), timeout)
    finally:
        await subscription.cancel()
    result.silent = sorted(wanted - result.by_host.keys())
    return result
