"""Live event streams: `GET /v1/events` (Server-Sent Events) and `GET /v1/events/ws`
(WebSocket), resumable by outbox sequence.

Query: `types=instance.*,volume.attach.*` (fnmatch-style patterns: `*` matches any run
of characters, dots included, `?` one character; none: every type),
`all_projects=1` (admins: every project's notifications; others get their own
project's), `after=N` (resume after sequence N; for SSE the `Last-Event-ID` header, sent
by EventSource on reconnect, wins), `token=` (these routes only: browsers cannot set
X-Auth-Token on EventSource or WebSocket). A resume point older than the retention is
refused: SSE answers 410 before the stream starts, a WebSocket closes with 4410.
"""

from __future__ import annotations

import re

from aiohttp import web

from gateway.context import GATEWAY
from gateway.errors import bad_request
from gateway.events_hub import EventHub, Filter
from gateway.events_stream import EventStream, Resume
from gateway.events_wire import opened, pump_sse, pump_ws
from gateway.http import REQUEST_ID_KEY, all_projects, gateway, project_of, query_int
from gateway.routing import Routes

routes = Routes("events", "/v1")

HUB = "event_hub"
PATTERN = re.compile(r"^[a-z0-9_.*?]{1,255}$")
MAX_PATTERNS = 32
MAX_SEQUENCE = 2**63 - 1  # the outbox's bigint
QUERY = {
    "types": "comma-separated fnmatch-style event type patterns, e.g. instance.*,volume.*",
    "all_projects": "1: every project's notifications (admins only)",
    "after": "resume after this sequence (replays what was missed, then goes live)",
}


def hub(app: web.Application) -> EventHub:
    found: EventHub = app[GATEWAY].state[HUB]
    return found


def patterns(request: web.Request) -> tuple[str, ...]:
    raw = request.query.get("types", "")
    found = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    bad = [p for p in found if not PATTERN.match(p)]
    if bad:
        raise bad_request(
            f"invalid event type pattern {bad[0]!r}: use [a-z0-9_.] with * and ? wildcards"
        )
    if len(found) > MAX_PATTERNS:
        raise bad_request(f"at most {MAX_PATTERNS} event type patterns")
    return found


def resume_point(request: web.Request, *, header: bool) -> int | None:
    """`Last-Event-ID` (SSE) or `?after=`: the last sequence the subscriber saw."""
    raw = request.headers.get("Last-Event-ID", "").strip() if header else ""
    if raw:
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SEQUENCE:
            raise bad_request(f"Last-Event-ID must be a sequence number, not {raw!r}")
        return int(raw)
    after = query_int(request, "after")
    if after is not None and not 0 <= after <= MAX_SEQUENCE:
        raise bad_request("query parameter after must be a sequence number (0 or more)")
    return after


def subscription(request: web.Request, *, header: bool) -> tuple[Filter, Resume]:
    every = all_projects(request)
    types = patterns(request)
    project = None if every else str(project_of(request))
    return Filter(project, types), Resume(resume_point(request, header=header), every, types)


@routes.get("/events", summary="Notifications as Server-Sent Events (resumable)", query=QUERY)
async def event_source(request: web.Request) -> web.StreamResponse:
    """text/event-stream: `id: <sequence>`, `event: <event_type>`, `data: <notification>`."""
    wanted, resume = subscription(request, header=True)
    with hub(request.app).joined(wanted) as live:
        stream = EventStream(request, live, resume)
        await stream.open()  # Gone -> 410 before anything is streamed
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
                "X-OpenStack-Request-ID": request[REQUEST_ID_KEY],
            }
        )
        await response.prepare(request)
        await pump_sse(request, response, stream, gateway(request).settings.event_keepalive_s)
        return response


@routes.get(
    "/events/ws",
    summary="Notifications over a WebSocket, one JSON text frame each (resumable)",
    query=QUERY,
    status=101,
)
async def event_socket(request: web.Request) -> web.StreamResponse:
    """Close codes: 4410 resume point older than the retention, 4429 too slow."""
    wanted, resume = subscription(request, header=False)
    keepalive = gateway(request).settings.event_keepalive_s
    with hub(request.app).joined(wanted) as live:
        ws = web.WebSocketResponse(heartbeat=keepalive)
        ws.headers["X-OpenStack-Request-ID"] = request[REQUEST_ID_KEY]
        await ws.prepare(request)
        stream = EventStream(request, live, resume)
        if await opened(ws, stream):
            await pump_ws(ws, stream)
        return ws


OPENAPI_RESPONSES = {
    event_source: {
        "200": {
            "description": "the stream: `id: <sequence>`, `event: <event_type>`, "
            "`data: <notification JSON>`, `: keepalive` comments; a last `event: overflow` "
            "when the subscriber fell too far behind",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        "410": {
            "description": "the resume point is older than the retention (or beyond the "
            "last notification): resync, then subscribe without one",
        },
    },
    event_socket: {
        "101": {
            "description": "a WebSocket sending one JSON text frame per notification; "
            "closes with 4410 (resume point past the retention: resync) or 4429 (too slow: "
            "resume after the sequence in the reason)",
        },
    },
}


async def on_startup(app: web.Application) -> None:
    shared = app[GATEWAY]
    event_hub = EventHub(shared.bus, shared.settings.event_queue_limit)
    shared.state[HUB] = event_hub
    await event_hub.start()


async def on_shutdown(app: web.Application) -> None:
    hub(app).close()


async def on_cleanup(app: web.Application) -> None:
    await hub(app).stop()
