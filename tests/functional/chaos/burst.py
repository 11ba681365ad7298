"""The chaos burst and what is checked after it.

A burst boots `boots` servers through the AMQP producer API (each with its own
idempotency key) and deletes every other one as soon as its create is accepted, so
deletes race builds. When `fault_after` creates are accepted, the fault runs. The client
behaves as a careful producer does: a command whose answer does not come (connection
closed, consumer killed) is sent again with the same idempotency key.

Afterwards: every accepted request is final (ACTIVE, deleted, or ERROR with a fault),
the database audit (conductor/audit_queries.py) finds nothing, every hypervisor runs
exactly the live instances placed on it, and the notification stream numbers are
gap-free (the outbox table, and what a durable subscriber received).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import orjson

from conductor.audit_queries import db_findings
from conductor.db.pool import setup_connection
from corebus.api_client import ApiClient
from schemas.errors import NotFound, SkymeshError
from tests.functional.chaos.mesh import ChaosMesh

CONVERGENCE_GOAL_S = 10.0
CONVERGENCE_BOUND_S = 90.0


class RetryingApi:
    """ApiClient that reconnects and resends (same idempotency key) on a lost answer."""

    def __init__(self, url: str, attempt_timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = attempt_timeout
        self._client: ApiClient | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self.retries = 0

    async def _current(self) -> tuple[ApiClient, int]:
        async with self._lock:
            if self._client is None:
                while True:
                    try:
                        client = ApiClient(self._url)
                        await client.__aenter__()
                        break
                    except Exception:
                        await asyncio.sleep(0.2)
                self._client = client
                self._generation += 1
            return self._client, self._generation

    async def _drop(self, generation: int) -> None:
        async with self._lock:
            if self._client is not None and generation == self._generation:
                client, self._client = self._client, None
                try:
                    await client.__aexit__(None, None, None)
                except Exception:
                    pass

    async def command(
        self, name: str, body: dict[str, Any], key: str | None = None, deadline: float = 120
    ) -> Any:
        until = time.monotonic() + deadline
        while True:
            client, generation = await self._current()
            try:
                return await client.command(name, body, idempotency_key=key, timeout=self._timeout)
            except SkymeshError as exc:
                if not exc.retryable or time.monotonic() > until:
                    raise
            except Exception:
                if time.monotonic() > until:
                    raise
                await self._drop(generation)
            self.retries += 1
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        if self._client is not None:
            await self._drop(self._generation)


class Observer:
    """A durable subscriber of `skymesh.notifications` that survives broker drops."""

    def __init__(self, url: str, queue: str) -> None:
        self._url = url
        self._queue = queue
        self.seen: list[tuple[int, str]] = []  # (sequence, message id)
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url, reconnect_interval=0.2)
        channel = await self._connection.channel()
        queue = await channel.declare_queue(
            self._queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind("skymesh.notifications", "#")
        await queue.consume(self._on_message)

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        body = orjson.loads(message.body)
        self.seen.append((int(body["payload"]["sequence"]), str(body["message_id"])))
        await message.ack()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


@dataclass
class Outcome:
    fault: str
    boots: int
    deletes: int
    accepted_boots: int = 0
    accepted_deletes: int = 0
    burst_s: float = 0.0
    fault_s: float = 0.0  # how long inflicting the fault took (a restart included)
    convergence_s: float = 0.0
    active: int = 0
    errors: int = 0
    retries: int = 0
    redelivered_notifications: int = 0
    notifications: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"chaos {self.fault}: converged {self.convergence_s:.1f}s after the fault "
            f"(goal {CONVERGENCE_GOAL_S:.0f}s; the fault took {self.fault_s:.1f}s); "
            f"burst {self.burst_s:.1f}s; "
            f"{self.accepted_boots} boots ({self.active} active, {self.errors} error), "
            f"{self.accepted_deletes} deletes, {self.retries} client resends, "
            f"{self.notifications} notifications ({self.redelivered_notifications} redelivered)"
        )


async def raise_demo_quota(conn: Any, instances: int) -> None:
    for resource, limit in (("instances", instances), ("cores", 4 * instances)):
        await conn.execute(
            "INSERT INTO quotas (project_id, resource, hard_limit) "
            "SELECT id, $1, $2 FROM projects WHERE name = 'demo' "
            "ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
            resource,
            limit,
        )
    await conn.execute(
        "INSERT INTO quotas (project_id, resource, hard_limit) "
        "SELECT id, 'ram', -1 FROM projects WHERE name = 'demo' "
        "ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit"
    )


async def run_burst(
    mesh: ChaosMesh,
    name: str,
    fault: Callable[[], Coroutine[Any, Any, Any]],
    *,
    boots: int = 200,
    deletes: int = 100,
    fault_after: int = 60,
    concurrency: int = 40,
) -> Outcome:
    outcome = Outcome(name, boots, deletes)
    conn = await asyncpg.connect(mesh.dsn)
    await setup_connection(conn)
    observer = Observer(mesh.amqp_url, f"chaos.observer.{name}")
    api = RetryingApi(mesh.amqp_url)
    try:
        await raise_demo_quota(conn, boots + 10)
        await observer.start()
        flavor = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"][0]["id"]
        image = (await api.command("images.list", {"name": "busybox"}))["images"][0]["id"]
        private = str(await conn.fetchval("SELECT id FROM networks WHERE name = 'private'"))
        created: list[str] = []
        deleted: set[str] = set()
        gate = asyncio.Semaphore(concurrency)
        fault_at: list[float] = []
        fault_task: list[asyncio.Task[Any]] = []
        every = max(boots // max(deletes, 1), 1)

        async def one(n: int) -> None:
            async with gate:
                # every 5th boot with a port on `private` (an address, a logical port)
                nics: Any = [{"network_id": private}] if n % 5 == 1 else "none"
                body = {"name": f"chaos-{n}", "flavor_id": flavor, "image_id": image,
                        "networks": nics}  # fmt: skip
                reply = await api.command("servers.create", body, key=f"chaos-{name}-{n}")
            server_id = reply["server_ids"][0]
            created.append(server_id)
            if len(created) == fault_after:
                fault_at.append(time.monotonic())
                fault_task.append(asyncio.create_task(timed(fault)))
            if n % every == 0 and len(deleted) < deletes:
                deleted.add(server_id)
                try:
                    await api.command("servers.delete", {"server_id": server_id})
                except NotFound:
                    pass  # a resend after the first delete finished

        async def timed(inject: Callable[[], Coroutine[Any, Any, Any]]) -> None:
            began = time.monotonic()
            await inject()
            outcome.fault_s = time.monotonic() - began

        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(boots)))
        if fault_task:
            await fault_task[0]
        outcome.burst_s = time.monotonic() - started
        outcome.accepted_boots, outcome.accepted_deletes = len(created), len(deleted)
        assert len(set(created)) == len(created) == boots, "every boot accepted once"
        assert fault_at, "the fault ran during the burst"
        deadline = fault_at[0] + CONVERGENCE_BOUND_S
        await settle(conn, created, deleted, deadline)
        # converged: every request final, and the hosts and the database agree
        while True:
            leftovers = [f.line() for f in await db_findings(conn)]
            leftovers += await hypervisor_drift(conn, mesh.home)
            if not leftovers or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        outcome.convergence_s = time.monotonic() - fault_at[0]
        outcome.problems += leftovers
        outcome.retries = api.retries
        rows = await conn.fetch(
            "SELECT vm_state, count(*) AS n FROM instances WHERE id = ANY($1::uuid[]) "
            "AND NOT deleted GROUP BY vm_state",
            created,
        )
        states = {r["vm_state"]: r["n"] for r in rows}
        outcome.active, outcome.errors = states.get("active", 0), states.get("error", 0)
        outcome.problems += await outbox_gaps(conn, observer, outcome)
    finally:
        await api.close()
        await observer.close()
        await conn.close()
    record(outcome)
    return outcome


async def settle(conn: Any, created: list[str], deleted: set[str], deadline: float) -> None:
    """Wait until every accepted request is final."""
    while True:
        rows = await conn.fetch(
            "SELECT i.id::text AS id, i.vm_state, i.task_state, i.deleted, "
            "EXISTS (SELECT 1 FROM instance_faults f WHERE f.instance_id = i.id) AS fault "
            "FROM instances i WHERE i.id = ANY($1::uuid[])",
            created,
        )
        pending = [r for r in rows if not _final(r, r["id"] in deleted)]
        if os.environ.get("SKYMESH_CHAOS_DEBUG"):
            states = Counter((r["vm_state"], r["task_state"], r["id"] in deleted) for r in pending)
            print(f"{time.monotonic():.1f} pending {dict(states)}", flush=True)
        if not pending and len(rows) == len(created):
            return
        if time.monotonic() > deadline:
            sample = [(r["id"], r["vm_state"], r["task_state"]) for r in pending[:5]]
            raise AssertionError(f"{len(pending)} requests not final: {sample}")
        await asyncio.sleep(0.2)


def _final(row: Any, deleting: bool) -> bool:
    if deleting:
        return bool(row["deleted"])
    if row["task_state"] is not None or row["deleted"]:
        return False
    return row["vm_state"] == "active" or (row["vm_state"] == "error" and row["fault"])


async def hypervisor_drift(conn: Any, home: Path) -> list[str]:
    """Every fake hypervisor runs exactly the live instances placed on it."""
    placed = {
        (r["host"], r["id"])
        for r in await conn.fetch(
            "SELECT host, id::text AS id FROM instances "
            "WHERE NOT deleted AND host IS NOT NULL AND vm_state <> 'error'"
        )
    }
    running = await asyncio.to_thread(_domains, home)
    problems = [f"domain.orphan {i} on {h}" for h, i in sorted(running - placed)]
    problems += [f"domain.missing {i} on {h}" for h, i in sorted(placed - running)]
    return problems


def _domains(home: Path) -> set[tuple[str, str]]:
    """(host, instance id) of every domain the fake hypervisors keep."""
    running: set[tuple[str, str]] = set()
    for state in home.rglob("fake-hypervisor.json"):
        data = json.loads(state.read_text() or "{}")
        running |= {(state.parent.name, instance_id) for instance_id in data.get("domains", {})}
    return running


async def outbox_gaps(conn: Any, observer: Observer, outcome: Outcome) -> list[str]:
    """The outbox numbered every notification 1..n once, all were published, and the
    durable subscriber received each number (a resend carries the same message id)."""
    deadline = time.monotonic() + 30
    while True:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, count(published_seq) AS numbered, "
            "count(DISTINCT published_seq) AS distinct_seqs, count(published_at) AS published, "
            "coalesce(max(published_seq), 0) AS top, min(published_seq) AS bottom FROM outbox"
        )
        got = {seq for seq, _ in observer.seen}
        done = row["published"] == row["n"] and len(got) >= row["n"]
        if done or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    problems = []
    if not (row["n"] == row["numbered"] == row["distinct_seqs"] == row["published"]):
        problems.append(f"outbox: {dict(row)}")
    if row["n"] and (row["bottom"], row["top"]) != (1, row["n"]):
        problems.append(f"outbox numbers {row['bottom']}..{row['top']} for {row['n']} rows")
    missing = set(range(1, row["top"] + 1)) - got
    if missing:
        problems.append(f"stream: {len(missing)} sequence numbers never received")
    by_seq: dict[int, set[str]] = {}
    for seq, message_id in observer.seen:
        by_seq.setdefault(seq, set()).add(message_id)
    if any(len(ids) > 1 for ids in by_seq.values()):
        problems.append("stream: one sequence number on two different notifications")
    outcome.notifications = len(got)
    outcome.redelivered_notifications = len(observer.seen) - len(got)
    return problems


def record(outcome: Outcome) -> None:
    """Print the figures; append them to $SKYMESH_CHAOS_RESULTS (JSON lines) when set."""
    print("\n" + outcome.summary())
    path = os.environ.get("SKYMESH_CHAOS_RESULTS")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({**outcome.__dict__, "at": time.time()}) + "\n")
