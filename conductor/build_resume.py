"""Resuming a build whose conductor died, from the step it recorded.

A build's in-process part (ask the scheduler, bind, cast Spawn) runs in one conductor's
memory; what follows is driven by durable facts. That part is a `workflows` row of kind
`build` owned by the conductor running it, with a short lease the owner renews while
it works (every sweep). When a conductor dies (kill -9, lost host), its leases lapse
within `LEASE_S`; another conductor claims the rows (SKIP LOCKED, so each is claimed
once) and resumes each at its recorded step: `scheduling` asks the scheduler again
(after giving back a claim the dead conductor may have left), `spawning` binds and
casts Spawn again to the recorded selection. The deadline sweep still bounds the whole
step (conductor/sweep.py) if the resume fails too.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

from conductor.db.queries import workflows
from conductor.db.types import Connection
from schemas.messages.scheduler import Selection

KIND = "build"
LEASE_S = 10.0


def owner_name() -> str:
    """This conductor process, as a workflow owner."""
    return f"conductor@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def own(conn: Connection, instance_id: UUID, owner: str) -> None:
    """Record that `owner` runs the build of `instance_id` from its scheduling step."""
    await conn.execute(
        "INSERT INTO workflows (kind, instance_id, step, deadline, owner) "
        "VALUES ($1, $2, 'scheduling', now() + $3::interval, $4) "
        "ON CONFLICT (instance_id) WHERE state IN ('running', 'waiting') "
        "AND instance_id IS NOT NULL "
        "DO UPDATE SET owner = excluded.owner, deadline = excluded.deadline, "
        "step = 'scheduling', payload = workflows.payload - 'selection', updated_at = now()",
        KIND,
        instance_id,
        timedelta(seconds=LEASE_S),
        owner,
    )


async def at_spawning(conn: Connection, instance_id: UUID, selection: Selection) -> None:
    """The build reached spawning on `selection` (in the transition's transaction)."""
    await conn.execute(
        "UPDATE workflows SET step = 'spawning', payload = payload || $2, updated_at = now() "
        "WHERE instance_id = $1 AND kind = $3 AND state IN ('running', 'waiting')",
        instance_id,
        {"selection": selection.model_dump(mode="json")},
        KIND,
    )


async def done(conn: Connection, instance_id: UUID, *, ok: bool, owner: str | None = None) -> None:
    """The in-process part is over: finished, or (`ok` False) left for another conductor
    to resume at once. Given `owner`, only while that conductor still owns the build: a
    reschedule (or a resume) elsewhere made the workflow another attempt's."""
    if ok:
        await conn.execute(
            "UPDATE workflows SET state = 'succeeded', deadline = NULL, updated_at = now() "
            "WHERE instance_id = $1 AND kind = $2 AND state IN ('running', 'waiting') "
            "AND ($3::text IS NULL OR owner = $3)",
            instance_id,
            KIND,
            owner,
        )
    else:
        await conn.execute(
            "UPDATE workflows SET deadline = now(), updated_at = now() "
            "WHERE instance_id = $1 AND kind = $2 AND state IN ('running', 'waiting') "
            "AND ($3::text IS NULL OR owner = $3)",
            instance_id,
            KIND,
            owner,
        )


async def renew(conn: Connection, owner: str, instance_ids: list[UUID]) -> None:
    """Extend the leases of the builds this conductor is running right now."""
    if instance_ids:
        await conn.execute(  # rows another conductor is claiming right now are skipped
            "UPDATE workflows SET deadline = now() + $3::interval WHERE id IN ("
            "SELECT id FROM workflows WHERE owner = $1 AND instance_id = ANY($2::uuid[]) "
            "AND state IN ('running', 'waiting') ORDER BY id FOR UPDATE SKIP LOCKED)",
            owner,
            instance_ids,
            timedelta(seconds=LEASE_S),
        )


async def claim_stranded(conn: Connection, owner: str) -> list[dict[str, Any]]:
    """Builds whose owner's lease lapsed, now owned by `owner` (lease renewed)."""
    claimed = [w for w in await workflows.claim_expired(conn, owner) if w["kind"] == KIND]
    for row in claimed:
        await conn.execute(
            "UPDATE workflows SET deadline = now() + $2::interval WHERE id = $1",
            row["id"],
            timedelta(seconds=LEASE_S),
        )
    return claimed


def selection_of(workflow: dict[str, Any]) -> Selection | None:
    raw = (workflow.get("payload") or {}).get("selection")
    return None if raw is None else Selection.model_validate(raw)
