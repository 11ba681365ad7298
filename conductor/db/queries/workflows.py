"""Workflow progress (build, resize, ...): the step reached, its deadline and the data to
resume with. A conductor owns the workflows it runs; when a deadline passes (its owner
died or a step hung), `claim_expired` hands the workflow to another conductor. Always set
a deadline on a running workflow, or nobody will resume it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from conductor.db.sql import UNSET, Params, Unset
from conductor.db.types import Connection, as_dict, as_dicts, one

LIVE = ("running", "waiting")
FINAL = ("succeeded", "failed", "cancelled")


async def start_workflow(
    conn: Connection,
    kind: str,
    step: str,
    *,
    instance_id: UUID | None = None,
    payload: Mapping[str, Any] | None = None,
    deadline: datetime | None = None,
    owner: str | None = None,
    workflow_id: UUID | None = None,
) -> dict[str, Any]:
    """A new running workflow (UniqueViolation when the instance has a live one)."""
    return one(
        await conn.fetchrow(
            "INSERT INTO workflows (id, kind, instance_id, step, payload, deadline, owner) "
            "VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7) RETURNING *",
            workflow_id,
            kind,
            instance_id,
            step,
            dict(payload or {}),
            deadline,
            owner,
        )
    )


async def advance(
    conn: Connection,
    workflow_id: UUID,
    step: str,
    *,
    expected_step: str | None = None,
    payload: Mapping[str, Any] | None = None,
    deadline: datetime | Unset | None = UNSET,
    state: str = "running",
    owner: str | Unset | None = UNSET,
) -> dict[str, Any] | None:
    """Move a live workflow to `step` (merging `payload` into its payload); None when it
    is not live or not at `expected_step`."""
    if state not in LIVE:
        raise ValueError(f"advance() keeps a workflow live; use finish() for {state!r}")
    params = Params(workflow_id, step, state, dict(payload or {}))
    sets = ["step = $2", "state = $3", "payload = payload || $4", "updated_at = now()"]
    if not isinstance(deadline, Unset):
        sets.append(f"deadline = {params.add(deadline)}")
    if not isinstance(owner, Unset):
        sets.append(f"owner = {params.add(owner)}")
    where = f"id = $1 AND state = ANY({params.add(list(LIVE))})"
    if expected_step is not None:
        where += f" AND step = {params.add(expected_step)}"
    return as_dict(
        await conn.fetchrow(
            f"UPDATE workflows SET {', '.join(sets)} WHERE {where} RETURNING *", *params.values
        )
    )


async def finish(
    conn: Connection, workflow_id: UUID, state: str, *, payload: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """End a live workflow as succeeded, failed or cancelled; None when it was not live."""
    if state not in FINAL:
        raise ValueError(f"finish() takes one of {FINAL}, not {state!r}")
    return as_dict(
        await conn.fetchrow(
            "UPDATE workflows SET state = $2, deadline = NULL, payload = payload || $3, "
            "updated_at = now() WHERE id = $1 AND state = ANY($4) RETURNING *",
            workflow_id,
            state,
            dict(payload or {}),
            list(LIVE),
        )
    )


async def get_workflow(conn: Connection, workflow_id: UUID) -> dict[str, Any] | None:
    return as_dict(await conn.fetchrow("SELECT * FROM workflows WHERE id = $1", workflow_id))


async def live_for_instance(conn: Connection, instance_id: UUID) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM workflows WHERE instance_id = $1 AND state = ANY($2)",
            instance_id,
            list(LIVE),
        )
    )


async def claim_expired(
    conn: Connection, owner: str, *, now: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Take over live workflows whose deadline passed (SKIP LOCKED, so conductors claim
    disjoint sets); each claimed row has `attempts` incremented and `owner` set. The new
    owner must set a fresh deadline as it resumes."""
    return as_dicts(
        await conn.fetch(
            """
        UPDATE workflows w SET owner = $1, attempts = w.attempts + 1, updated_at = now()
        FROM (SELECT id FROM workflows
              WHERE state = ANY($4) AND deadline < coalesce($2, now())
              ORDER BY deadline LIMIT $3 FOR UPDATE SKIP LOCKED) due
        WHERE w.id = due.id
        RETURNING w.*""",
            owner,
            now,
            limit,
            list(LIVE),
        )
    )
