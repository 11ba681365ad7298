"""Instance actions (one per user request), their events, and instance faults."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.types import Connection, as_dict, as_dicts


async def start_action(
    conn: Connection,
    instance_id: UUID,
    request_id: str,
    action: str,
    *,
    project_id: UUID | None = None,
    user_id: UUID | None = None,
    message: str | None = None,
) -> int:
    """The id of the action for (instance, request), created on first use."""
    action_id: int = await conn.fetchval(
        "INSERT INTO instance_actions (instance_id, request_id, action, project_id, user_id, "
        "message) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (instance_id, request_id) DO UPDATE SET updated_at = now() RETURNING id",
        instance_id,
        request_id,
        action,
        project_id,
        user_id,
        message,
    )
    return action_id


async def finish_action(conn: Connection, action_id: int, *, message: str | None = None) -> None:
    await conn.execute(
        "UPDATE instance_actions SET finish_time = coalesce(finish_time, now()), "
        "message = coalesce($2, message), updated_at = now() WHERE id = $1",
        action_id,
        message,
    )


async def start_event(
    conn: Connection, action_id: int, event: str, *, host: str | None = None
) -> int:
    event_id: int = await conn.fetchval(
        "INSERT INTO instance_action_events (action_id, event, host) VALUES ($1, $2, $3) "
        "RETURNING id",
        action_id,
        event,
        host,
    )
    return event_id


async def finish_event(
    conn: Connection,
    event_id: int,
    *,
    ok: bool,
    traceback: str | None = None,
    details: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE instance_action_events SET finish_time = now(), result = $2, "
        "traceback = $3, details = $4 WHERE id = $1 AND finish_time IS NULL",
        event_id,
        "Success" if ok else "Error",
        traceback,
        details,
    )


async def list_actions(conn: Connection, instance_id: UUID) -> list[dict[str, Any]]:
    """The instance's actions, newest first."""
    return as_dicts(
        await conn.fetch(
            "SELECT * FROM instance_actions WHERE instance_id = $1 "
            "ORDER BY start_time DESC, id DESC",
            instance_id,
        )
    )


async def get_action(conn: Connection, instance_id: UUID, request_id: str) -> dict[str, Any] | None:
    """The action with its `events` (oldest first)."""
    action = as_dict(
        await conn.fetchrow(
            "SELECT * FROM instance_actions WHERE instance_id = $1 AND request_id = $2",
            instance_id,
            request_id,
        )
    )
    if action is not None:
        action["events"] = as_dicts(
            await conn.fetch(
                "SELECT * FROM instance_action_events WHERE action_id = $1 ORDER BY id",
                action["id"],
            )
        )
    return action


async def add_fault(
    conn: Connection,
    instance_id: UUID,
    code: int,
    message: str,
    *,
    details: str | None = None,
    host: str | None = None,
) -> int:
    fault_id: int = await conn.fetchval(
        "INSERT INTO instance_faults (instance_id, code, message, details, host) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        instance_id,
        code,
        message,
        details,
        host,
    )
    return fault_id


async def latest_fault(conn: Connection, instance_id: UUID) -> dict[str, Any] | None:
    return as_dict(
        await conn.fetchrow(
            "SELECT * FROM instance_faults WHERE instance_id = $1 "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            instance_id,
        )
    )


async def begin_step(
    conn: Connection, instance_id: UUID, action: str, event: str, *, host: str | None = None
) -> int | None:
    """Start `event` on the instance's newest `action` (None when there is no such action)."""
    action_id = await conn.fetchval(
        "SELECT id FROM instance_actions WHERE instance_id = $1 AND action = $2 "
        "ORDER BY start_time DESC, id DESC LIMIT 1",
        instance_id,
        action,
    )
    if action_id is None:
        return None
    return await start_event(conn, action_id, event, host=host)


async def end_step(
    conn: Connection,
    instance_id: UUID,
    event: str,
    *,
    ok: bool,
    details: str | None = None,
    finish_action_too: bool = False,
) -> bool:
    """Finish the instance's open `event` (the newest); with `finish_action_too`, its
    action too. False when no such event is open."""
    row = await conn.fetchrow(
        "SELECT e.id, e.action_id FROM instance_action_events e "
        "JOIN instance_actions a ON a.id = e.action_id "
        "WHERE a.instance_id = $1 AND e.event = $2 AND e.finish_time IS NULL "
        "ORDER BY e.id DESC LIMIT 1",
        instance_id,
        event,
    )
    if row is None:
        return False
    await finish_event(conn, row["id"], ok=ok, details=details)
    if finish_action_too:
        await finish_action(conn, row["action_id"], message=None if ok else details)
    return True


async def finish_latest(
    conn: Connection, instance_id: UUID, action: str, *, message: str | None = None
) -> None:
    """Finish the instance's newest `action` (e.g. a build that ended in ERROR)."""
    action_id = await conn.fetchval(
        "SELECT id FROM instance_actions WHERE instance_id = $1 AND action = $2 "
        "ORDER BY start_time DESC, id DESC LIMIT 1",
        instance_id,
        action,
    )
    if action_id is not None:
        await finish_action(conn, action_id, message=message)
