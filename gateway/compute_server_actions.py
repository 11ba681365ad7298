"""POST /servers/{id}/action: Nova's server actions as `conductor.server_action` (and
`conductor.get_server_console_output` for os-getConsoleOutput).

A refused state change answers 409 in Nova's words ("Cannot 'stop' instance X while it
is in vm_state stopped"), a locked server 409 "Instance X is locked".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.compute_server_create import ref_id
from gateway.compute_server_view import server_basics, server_detail
from gateway.compute_servers import fetch_view, locked_conflict
from gateway.errors import HttpError, bad_request
from gateway.http import body, call, caller, describe, json, no_content, uuid_arg
from gateway.microversion import microversion
from gateway.routing import Routes
from schemas.errors import Conflict, SkymeshError
from schemas.messages import conductor_actions as a
from schemas.messages.common import Accepted
from schemas.messages.conductor_server_extras import (
    GetServerConsoleOutput,
    ServerConsoleOutputReply,
)

routes = Routes("compute", "/compute/v2.1")

# Nova's action names (the body's key) as they appear in its 409 messages
NOVA_NAMES = {
    "reboot": "reboot",
    "os-stop": "stop",
    "os-start": "start",
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
    "resize": "resize",
    "confirmResize": "confirmResize",
    "revertResize": "revertResize",
    "migrate": "migrate",
    "rebuild": "rebuild",
    "lock": "lock",
    "unlock": "unlock",
}


class ActionBody(BaseModel):
    """`{"<action>": {...} | null}`, one action per request (for the document)."""

    model_config = ConfigDict(extra="allow")


def _args(value: Any, action: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"Invalid input for field/attribute {action}: must be an object")
    return value


def _reboot(v: dict[str, Any], _r: web.Request) -> a.Reboot:
    kind = str(v.get("type", "")).upper()
    if kind not in ("SOFT", "HARD"):
        raise bad_request("Invalid input for field/attribute type: must be SOFT or HARD")
    return a.Reboot(type=a.RebootType(kind))


def _resize(v: dict[str, Any], _r: web.Request) -> a.Resize:
    if "flavorRef" not in v:
        raise bad_request("Resize requests require 'flavorRef' attribute.")
    return a.Resize(flavor_id=ref_id(str(v["flavorRef"]), "flavorRef"))


def _migrate(v: dict[str, Any], r: web.Request) -> a.Migrate:
    host = v.get("host")
    if host is not None and microversion(r) < (2, 56):
        raise bad_request("host needs microversion 2.56 or later")
    if host is not None and not caller(r).is_admin:
        raise HttpError(403, "Policy doesn't allow a non-admin to choose the host.")
    return a.Migrate(host=host)


def _rebuild(v: dict[str, Any], _r: web.Request) -> a.Rebuild:
    if "imageRef" not in v:
        raise bad_request("Invalid input for field/attribute rebuild: 'imageRef' is required")
    return a.Rebuild(
        image_id=ref_id(str(v["imageRef"]), "imageRef"),
        name=v.get("name"),
        metadata=v.get("metadata"),
        preserve_ephemeral=bool(v.get("preserve_ephemeral", False)),
    )


def _lock(v: dict[str, Any], r: web.Request) -> a.Lock:
    reason = v.get("locked_reason")
    if reason is not None and microversion(r) < (2, 73):
        raise bad_request("locked_reason needs microversion 2.73 or later")
    return a.Lock(reason=reason)


Parser = Callable[[dict[str, Any], web.Request], Any]
PARSERS: dict[str, Parser] = {
    "reboot": _reboot,
    "os-stop": lambda v, r: a.Stop(),
    "os-start": lambda v, r: a.Start(),
    "pause": lambda v, r: a.Pause(),
    "unpause": lambda v, r: a.Unpause(),
    "suspend": lambda v, r: a.Suspend(),
    "resume": lambda v, r: a.Resume(),
    "resize": _resize,
    "confirmResize": lambda v, r: a.ConfirmResize(),
    "revertResize": lambda v, r: a.RevertResize(),
    "migrate": _migrate,
    "rebuild": _rebuild,
    "lock": _lock,
    "unlock": lambda v, r: a.Unlock(),
}
NO_CONTENT = frozenset({"confirmResize"})  # Nova answers 204 for it, 202 for the others


def _action(data: dict[str, Any]) -> tuple[str, Any]:
    known = [key for key in data if key in PARSERS or key == "os-getConsoleOutput"]
    if len(known) != 1 or len(data) != 1:
        raise bad_request(f"Unsupported or invalid action: {', '.join(sorted(data)) or 'none'}")
    return known[0], data[known[0]]


async def _state_conflict(request: web.Request, server_id: UUID, action: str) -> HttpError:
    """The 409 Nova gives for an action the server's state does not allow."""
    server = (await fetch_view(request, server_id)).server
    if server.task_state is not None:
        state = f"task_state {server.task_state.value}"
    else:
        state = f"vm_state {server.vm_state.value}"
    return HttpError(409, f"Cannot '{action}' instance {server_id} while it is in {state}")


@routes.post(
    "/servers/{server_id}/action",
    summary="Run a server action (reboot, os-stop, os-start, pause, unpause, suspend, resume, "
    "resize, confirmResize, revertResize, migrate, rebuild, lock, unlock, "
    "os-getConsoleOutput)",
    body=ActionBody,
    status=202,
)
async def server_action(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    name, value = _action(await body(request))
    args = _args(value, name)
    if name == "os-getConsoleOutput":
        return await _console_output(request, server_id, args)
    try:
        action = PARSERS[name](args, request)
        message = a.ServerAction(server_id=server_id, action=action)
    except ValidationError as exc:
        raise bad_request(f"Invalid input for field/attribute {name}. {describe(exc)}") from None
    try:
        await call(request, "server_action", message, Accepted)
    except Conflict:
        raise await _state_conflict(request, server_id, NOVA_NAMES[name]) from None
    except SkymeshError as exc:
        raise (locked_conflict(exc, server_id) or exc) from None
    if name == "rebuild":
        return await _rebuilt(request, server_id)
    return no_content(204 if name in NO_CONTENT else 202)


async def _rebuilt(request: web.Request, server_id: UUID) -> web.Response:
    """Nova answers a rebuild with the server (as `show` from 2.75) and a new adminPass."""
    view = await fetch_view(request, server_id)
    shape = server_detail if microversion(request) >= (2, 75) else server_basics
    server = shape(request, view)
    server["adminPass"] = secrets.token_urlsafe(9)
    return json({"server": server}, status=202)


async def _console_output(
    request: web.Request, server_id: UUID, args: dict[str, Any]
) -> web.Response:
    raw = args.get("length")
    try:
        length = None if raw in (None, -1, "-1") else int(raw)
    except (TypeError, ValueError):
        raise bad_request(f"Invalid input for field/attribute length: {raw!r}") from None
    if length is not None and length < 0:
        raise bad_request("Invalid input for field/attribute length: must be -1 or more")
    if length == 0:
        return json({"output": ""})
    message = GetServerConsoleOutput(
        server_id=server_id, length=min(length, 10000) if length else None
    )
    reply = await call(request, "get_server_console_output", message, ServerConsoleOutputReply)
    return json({"output": reply.output})
