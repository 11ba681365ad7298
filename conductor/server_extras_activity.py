"""What happened to a server and what it says: its instance actions with their events,
its serial console output (asked from the agent of its host), and the external events
Neutron and Cinder report about it (os-server-external-events).

External events are recorded as finished events of the server's newest instance action
(named `<event name>` or `<event name>:<tag>`), so `os-instance-actions` shows them;
they change no state here: the agents report VIF plugging and volume changes as facts.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.agents import agent_topic
from conductor.db.queries import instance_actions, instances, server_views
from conductor.records import model_from_row
from conductor.server_extras_views import owned
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, Forbidden, NotFound
from schemas.instance import InstanceAction, InstanceActionEvent
from schemas.messages import conductor_server_extras as m
from schemas.messages.agent_compute import ConsoleOutput, GetConsoleOutput

EVENT_ROLES = frozenset({"admin", "service"})


def action_from_row(row: dict[str, Any]) -> InstanceAction:
    events = tuple(model_from_row(InstanceActionEvent, e) for e in row.get("events", ()))
    return model_from_row(InstanceAction, row, events=events)


class ServerActivity:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client, *, timeout_s: float) -> None:
        self._pool = pool
        self._client = client
        self._timeout = timeout_s

    @rpc
    async def list_instance_actions(
        self, ctx: RequestContext, req: m.ListInstanceActions
    ) -> m.ListInstanceActionsReply:
        async with self._pool.acquire() as conn:
            await owned(conn, req.server_id, ctx, include_deleted=True)
            rows = await instance_actions.list_actions(conn, req.server_id)
        return m.ListInstanceActionsReply(actions=tuple(map(action_from_row, rows)))

    @rpc
    async def get_instance_action(
        self, ctx: RequestContext, req: m.GetInstanceAction
    ) -> m.GetInstanceActionReply:
        async with self._pool.acquire() as conn:
            await owned(conn, req.server_id, ctx, include_deleted=True)
            row = await instance_actions.get_action(conn, req.server_id, req.request_id)
        if row is None:
            raise NotFound(f"Action {req.request_id} on instance {req.server_id} not found")
        return m.GetInstanceActionReply(action=action_from_row(row))

    @rpc
    async def get_server_console_output(
        self, ctx: RequestContext, req: m.GetServerConsoleOutput
    ) -> m.ServerConsoleOutputReply:
        async with self._pool.acquire() as conn:
            row = await owned(conn, req.server_id, ctx)
        if row["host"] is None or row["vm_state"] in ("building", "error"):
            raise Conflict(
                f"Cannot 'get_console_output' instance {req.server_id} while it is in "
                f"vm_state {row['vm_state']}"
            )
        command = GetConsoleOutput(instance_id=req.server_id, length=req.length)
        reply = await self._client.call(
            agent_topic(row["host"], command),
            command,
            ConsoleOutput,
            context=ctx,
            timeout=self._timeout,
        )
        return m.ServerConsoleOutputReply(output=reply.output)

    @rpc
    async def server_external_events(
        self, ctx: RequestContext, req: m.ServerExternalEvents
    ) -> m.ServerExternalEventsReply:
        if not ctx.is_admin and not set(ctx.roles) & EVENT_ROLES:
            raise Forbidden("os-server-external-events is for admins and services")
        results = []
        async with self._pool.acquire() as conn, conn.transaction():
            for event in req.events:
                found = await instances.get_instance(conn, event.server_uuid)
                ok = found is not None and await _record(conn, event, found)
                results.append(m.ExternalEventResult(event=event, code=200 if ok else 404))
        return m.ServerExternalEventsReply(results=tuple(results))


async def _record(conn: Any, event: m.ExternalEvent, server: dict[str, Any]) -> bool:
    """Record the event on the server's newest action; False when it has none (Nova
    answers 404 for a server that is not on a host yet, too)."""
    if server["host"] is None:
        return False
    action_id = await server_views.newest_action_id(conn, server["id"])
    if action_id is None:
        return False
    name = f"{event.name}:{event.tag}" if event.tag else event.name
    event_id = await instance_actions.start_event(conn, action_id, name, host=server["host"])
    if event.status != "in-progress":
        await instance_actions.finish_event(conn, event_id, ok=event.status == "completed")
    return True
