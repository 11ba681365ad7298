"""Fact ingestion: agents report what really happened, the database follows at once.

Each fact is applied in one transaction with its outbox notification, and only when its
sequence is newer than the last one applied for that instance on that host, so
duplicates and stale facts change nothing. Conductors share the facts as competing
consumers of one durable queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from conductor import lifecycle, transitions
from conductor.agents import Casts
from conductor.build import SPAWN, Builds
from conductor.db.queries import facts, instance_actions, instances, migrations
from conductor.db.queries import hosts as host_queries
from conductor.db.queries.instance_list import list_on_host
from conductor.inventory_facts import apply_inventory
from conductor.move_facts import Moves
from corebus.envelope import RequestContext
from corebus.service import event_handler
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Destroy
from schemas.messages.facts import (
    Fact,
    InstanceActionFailed,
    InstanceDeleted,
    InstancePowerStateChanged,
    InstanceRebooted,
    InstanceSpawned,
    InstanceSpawnFailed,
)
from schemas.messages.host_facts import AgentSnapshot, InventoryReported
from schemas.placement import HostRole

log = logging.getLogger(__name__)


INSTANCE_FACTS = (
    InstanceSpawned,
    InstanceSpawnFailed,
    InstanceDeleted,
    InstancePowerStateChanged,
    InstanceRebooted,
    InstanceActionFailed,
)


class FactIngestor:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        builds: Builds,
        on_commit: Callable[[], None] = lambda: None,
        moves: Moves | None = None,
    ) -> None:
        self._pool = pool
        self._builds = builds
        self._moves = moves  # resize/migrate/rebuild facts: move_facts.py
        self._on_commit = on_commit
        self.applied = 0
        self.dropped = 0

    @event_handler("events", "compute.#", group="conductor")
    async def on_compute_fact(self, ctx: RequestContext, fact: Fact) -> None:
        if self._moves is not None and self._moves.handles(fact):
            await self._moves.on_fact(ctx, fact)  # resize/migrate/rebuild steps
            return
        if isinstance(fact, AgentSnapshot):
            if HostRole.COMPUTE in fact.roles and "domains" not in fact.failed_sections:
                await self.reconcile(fact, ctx.request_id)
            return
        if isinstance(fact, InventoryReported):
            if await apply_inventory(self._pool, fact):
                self._on_commit()
            return
        if isinstance(fact, INSTANCE_FACTS):
            await self.ingest(fact, ctx.request_id)
        # heartbeats travel as RPCs (conductor.heartbeat); nothing to do here

    async def reconcile(self, snapshot: AgentSnapshot, request_id: str) -> None:
        """Make the database agree with what the host really runs: every domain it
        reports is applied as an observed power state; an instance the database places
        there that has no domain is seen powered off (or, when it was being deleted,
        gone). Domains the database does not know are reported as orphans."""
        reported = {d.instance_id for d in snapshot.domains}
        for domain in snapshot.domains:
            seen = InstancePowerStateChanged(
                host=snapshot.host,
                resource_id=domain.instance_id,
                seq=domain.seq,
                observed_at=snapshot.observed_at,
                power_state=domain.power_state,
                reason="snapshot",
            )
            await self.ingest(seen, request_id)
        async with self._pool.acquire() as conn:
            placed = await list_on_host(conn, snapshot.host)
        known = {row["id"] for row in placed}
        for row in placed:
            if row["id"] not in reported and row["task_state"] not in lifecycle.BUILDING:
                gone = InstanceDeleted(
                    host=snapshot.host,
                    resource_id=row["id"],
                    seq=snapshot.seq,
                    observed_at=snapshot.observed_at,
                )
                await self.ingest(gone, request_id)
        for orphan in sorted(reported - known):
            log.warning(
                "host %s runs domain %s that no live instance owns (orphan)", snapshot.host, orphan
            )

    async def ingest(self, fact: Fact, request_id: str) -> None:
        """Apply one instance fact unless it is stale or a duplicate."""
        reschedule: InstanceSpawnFailed | None = None
        cleanup: Casts = []
        async with self._pool.acquire() as conn, conn.transaction():
            if not await facts.accept_fact(conn, "instance", fact.resource_id, fact.host, fact.seq):
                self.dropped += 1
                return
            row = await instances.get_instance(conn, fact.resource_id, for_update=True)
            placed = None if row is None else row["host"]
            stale = row is None or (placed is not None and placed != fact.host)
            if isinstance(fact, InstanceSpawned) and placed != fact.host:
                # spawned after its delete, or after its reschedule from that host (placed
                # elsewhere, or nowhere until the next attempt is): nothing may keep it,
                # unless a move in progress keeps a copy there
                if not await _moving(conn, fact):
                    stale = True
                    cleanup = [(fact.host, Destroy(instance_id=fact.resource_id))]
            if stale or row is None:
                self.dropped += 1  # deleted, or a leftover report from a former host
            elif isinstance(fact, InstanceSpawnFailed):
                if row["task_state"] == "spawning":
                    reschedule = fact
            else:
                cleanup = await self._apply(conn, row, fact, request_id)
            if not stale:
                self.applied += 1
        self._on_commit()
        await self._builds.cast(cleanup, request_id)
        if reschedule is not None:
            await self._builds.reschedule(
                reschedule.resource_id,
                reschedule.host,
                reschedule.reason,
                request_id,
                retryable=reschedule.retryable,
            )

    async def _apply(self, conn: Any, row: dict[str, Any], fact: Fact, request_id: str) -> Casts:
        """Apply the fact; the agent commands to cast once committed."""
        instance_id = fact.resource_id
        if isinstance(fact, InstanceDeleted) and row["task_state"] == "deleting":
            return await lifecycle.finish_delete(conn, instance_id, request_id)
        await self._apply_power_state(conn, row, fact, request_id)
        return []

    async def _apply_power_state(
        self, conn: Any, row: dict[str, Any], fact: Fact, request_id: str
    ) -> None:
        instance_id = fact.resource_id
        seen = _power_state(fact)
        if seen is None:
            return
        change = transitions.outcome(row["task_state"], row["vm_state"], seen)
        if isinstance(fact, InstanceActionFailed) and row["task_state"] is not None:
            # the action did not happen: settle on what the host reports, no event
            settled = transitions.OBSERVED.get(seen)
            change = transitions.Outcome(settled.vm_state if settled else row["vm_state"], None)
        if change is None:
            if seen != row["power_state"]:
                await instances.update_state(conn, instance_id, power_state=int(seen))
            return
        updates: dict[str, Any] = {
            "vm_state": change.vm_state,
            "task_state": None,
            "power_state": int(seen),
        }
        if change.event == "instance.create.end":
            updates["launched_at"] = datetime.now(UTC)
            if row["host"] is not None:
                await host_queries.reset_failed_builds(conn, row["host"])
            await instance_actions.end_step(
                conn, instance_id, SPAWN, ok=True, finish_action_too=True
            )
        await instances.update_state(conn, instance_id, **updates)
        if change.event is not None:
            await lifecycle.emit(conn, change.event, instance_id, request_id)


async def _moving(conn: Any, fact: Fact) -> bool:
    """Whether the instance has a move in progress (its other host keeps a copy)."""
    return await migrations.in_progress(conn, fact.resource_id) is not None


def _power_state(fact: Fact) -> PowerState | None:
    if isinstance(fact, InstanceDeleted):
        return PowerState.NOSTATE  # the domain is gone from the host
    seen = getattr(fact, "power_state", None)
    return None if seen is None else PowerState(seen)
