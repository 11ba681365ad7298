"""`os-instance-actions` (what was done to a server, with events) and
`os-server-external-events` (what Neutron and Cinder report about servers)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.compute_server_view import PREFIX, host_id
from gateway.errors import HttpError, bad_request, forbidden
from gateway.http import body, call, caller, describe, json, uuid_arg
from gateway.microversion import microversion
from gateway.routing import Routes
from schemas.instance import InstanceAction, InstanceActionEvent
from schemas.messages.conductor_server_extras import (
    GetInstanceAction,
    GetInstanceActionReply,
    ListInstanceActions,
    ListInstanceActionsReply,
    ServerExternalEvents,
    ServerExternalEventsReply,
)

routes = Routes("compute", PREFIX)
EVENT_ROLES = frozenset({"admin", "service"})


def _time(value: Any) -> str | None:
    """Nova writes action times without a zone, with microseconds."""
    return None if value is None else str(value.strftime("%Y-%m-%dT%H:%M:%S.%f"))


def action_body(request: web.Request, action: InstanceAction) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "action": action.action.value,
        "instance_uuid": str(action.instance_id),
        "message": action.message,
        "project_id": str(action.project_id) if action.project_id else None,
        "request_id": action.request_id,
        "start_time": _time(action.start_time),
        "user_id": str(action.user_id) if action.user_id else None,
    }
    if microversion(request) >= (2, 58):
        times = [action.start_time, action.finish_time]
        times += [t for e in action.events for t in (e.start_time, e.finish_time)]
        shown["updated_at"] = _time(max(t for t in times if t is not None))
    return shown


def event_body(
    request: web.Request, action: InstanceAction, event: InstanceActionEvent
) -> dict[str, Any]:
    admin = caller(request).is_admin
    version = microversion(request)
    shown: dict[str, Any] = {
        "event": event.event,
        "start_time": _time(event.start_time),
        "finish_time": _time(event.finish_time),
        "result": event.result.value if event.result else None,
    }
    if admin:
        shown["traceback"] = None
    if version >= (2, 62):
        shown["hostId"] = host_id(action.project_id, event.host) if action.project_id else ""
        if admin:
            shown["host"] = event.host or ""
    return shown


@routes.get("/servers/{server_id}/os-instance-actions", summary="List a server's actions")
async def list_actions(request: web.Request) -> web.Response:
    message = ListInstanceActions(server_id=uuid_arg(request, "server_id", "Instance"))
    reply = await call(request, "list_instance_actions", message, ListInstanceActionsReply)
    return json({"instanceActions": [action_body(request, a) for a in reply.actions]})


@routes.get(
    "/servers/{server_id}/os-instance-actions/{request_id}",
    summary="Show a server action with its events",
)
async def show_action(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    request_id = request.match_info["request_id"]
    if not 1 <= len(request_id) <= 64:
        raise HttpError(404, f"Action {request_id} not found")
    message = GetInstanceAction(server_id=server_id, request_id=request_id)
    reply = await call(request, "get_instance_action", message, GetInstanceActionReply)
    action = reply.action
    shown = action_body(request, action)
    # Nova shows the events to admins, and from 2.51 to everyone
    if caller(request).is_admin or microversion(request) >= (2, 51):
        shown["events"] = [event_body(request, action, e) for e in action.events]
    return json({"instanceAction": shown})


class ExternalEventsBody(BaseModel):
    """`{"events": [{"name", "server_uuid", "status", "tag"}]}`."""

    model_config = ConfigDict(extra="forbid")
    events: list[dict[str, Any]]


@routes.post(
    "/os-server-external-events",
    summary="Report events about servers (admin or service role)",
    body=ExternalEventsBody,
    status=200,
)
async def external_events(request: web.Request) -> web.Response:
    if not caller(request).roles & EVENT_ROLES:
        raise forbidden("Policy doesn't allow os_compute_api:os-server-external-events:create.")
    data = await body(request)
    try:
        message = ServerExternalEvents.model_validate({"events": data.get("events")})
    except ValidationError as exc:
        raise bad_request(f"Invalid input for field/attribute events. {describe(exc)}") from None
    reply = await call(request, "server_external_events", message, ServerExternalEventsReply)
    shown = []
    for result in reply.results:
        event = result.event.model_dump(mode="json")
        event["code"] = result.code
        if result.code == 404:
            event["status"] = "failed"
        shown.append(event)
    accepted = sum(1 for r in reply.results if r.code == 200)
    if not accepted:
        raise HttpError(404, "No instances found for any event")
    return json({"events": shown}, status=200 if accepted == len(shown) else 207)
