"""Server actions that change the power state of a guest where it runs: reboot, stop,
start, pause, unpause, suspend, resume; and lock/unlock. Each checks the instance is in
a state that allows it (409 otherwise), records the action, sets the task state with a
deadline, writes `<action>.start`, and tells the host's agent. The agent's fact
completes it (transitions.py). Resize, migrate, confirm/revert and rebuild are started
by the workflows given as `moves` (kind -> start, see move_facts.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from conductor import lifecycle
from conductor.agents import agent_topic
from conductor.db.queries import instance_actions, instances
from conductor.moves import AfterCommit, Starter
from conductor.servers import identity
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.base import Message
from schemas.errors import Conflict, Forbidden, InvalidInput, NotFound
from schemas.messages import agent_compute as agent
from schemas.messages import conductor_actions as actions
from schemas.messages.common import Accepted


@dataclass(frozen=True)
class PowerAction:
    allowed: tuple[str, ...]  # vm states it may start from
    task_state: str
    event: str  # Nova's notification name
    nova_action: str  # instance action name


POWER_ACTIONS: dict[str, PowerAction] = {
    "stop": PowerAction(
        ("active", "paused", "suspended"), "powering-off", "instance.power_off.start", "stop"
    ),
    "start": PowerAction(("stopped",), "powering-on", "instance.power_on.start", "start"),
    "pause": PowerAction(("active",), "pausing", "instance.pause.start", "pause"),
    "unpause": PowerAction(("paused",), "unpausing", "instance.unpause.start", "unpause"),
    "suspend": PowerAction(("active",), "suspending", "instance.suspend.start", "suspend"),
    "resume": PowerAction(("suspended",), "resuming", "instance.resume.start", "resume"),
    "reboot": PowerAction(
        ("active", "stopped", "paused", "suspended"), "rebooting", "instance.reboot.start", "reboot"
    ),
}


def agent_command(action: Any, instance_id: Any) -> Message:
    if isinstance(action, actions.Reboot):
        return agent.Reboot(instance_id=instance_id, hard=action.type is actions.RebootType.HARD)
    commands: dict[str, type[agent.InstanceCommand]] = {
        "stop": agent.PowerOff,
        "start": agent.PowerOn,
        "pause": agent.Pause,
        "unpause": agent.Unpause,
        "suspend": agent.Suspend,
        "resume": agent.Resume,
    }
    return commands[action.kind](instance_id=instance_id)


class ServerActions:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        client: Client,
        *,
        action_timeout_s: float,
        on_commit: Callable[[], None] = lambda: None,
        moves: Mapping[str, Starter] | None = None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._timeout = action_timeout_s
        self._on_commit = on_commit
        self._moves = dict(moves or {})

    @rpc
    async def server_action(self, ctx: RequestContext, req: actions.ServerAction) -> Accepted:
        project_id, _ = identity(ctx)
        action = req.action
        async with self._pool.acquire() as conn, conn.transaction():
            row = await instances.get_instance(
                conn,
                req.server_id,
                project_id=None if ctx.is_admin else project_id,
                for_update=True,
            )
            if row is None:
                raise NotFound(f"server {req.server_id} not found")
            if isinstance(action, actions.Lock | actions.Unlock):
                locked = isinstance(action, actions.Lock)
                reason = action.reason if isinstance(action, actions.Lock) else None
                await instances.update_state(
                    conn, req.server_id, locked=locked, locked_reason=reason
                )
                return Accepted(resource_id=req.server_id, request_id=ctx.request_id)
            if row["locked"] and not ctx.is_admin:
                raise Forbidden(f"server {req.server_id} is locked")
            move = self._moves.get(action.kind)
            if move is not None:
                after = await move(conn, ctx, row, action)
            else:
                after = await self._power_action(conn, ctx, row, action)
        self._on_commit()
        await after()
        return Accepted(resource_id=req.server_id, request_id=ctx.request_id)

    async def _power_action(
        self, conn: Any, ctx: RequestContext, row: dict[str, Any], action: Any
    ) -> AfterCommit:
        """Start a power action in the caller's transaction; the cast to do after it."""
        project_id, user_id = identity(ctx)
        spec = POWER_ACTIONS.get(action.kind)
        if spec is None:
            raise InvalidInput(f"action {action.kind!r} is not supported yet")
        if row["task_state"] is not None or row["vm_state"] not in spec.allowed:
            raise Conflict(
                f"cannot {action.kind} server {row['id']} while it is "
                f"{row['vm_state']}" + (f"/{row['task_state']}" if row["task_state"] else "")
            )
        task_state = spec.task_state
        if isinstance(action, actions.Reboot) and action.type is actions.RebootType.HARD:
            task_state = "rebooting_hard"
        await instances.update_state(
            conn,
            row["id"],
            task_state=task_state,
            task_deadline=lifecycle.deadline_in(self._timeout),
        )
        await instance_actions.start_action(
            conn,
            row["id"],
            ctx.request_id,
            spec.nova_action,
            project_id=project_id,
            user_id=user_id,
        )
        await lifecycle.emit(conn, spec.event, row["id"], ctx.request_id)
        command = agent_command(action, row["id"])
        host = row["host"]

        async def cast() -> None:
            await self._client.cast(agent_topic(host, command), command, context=ctx)

        return cast
