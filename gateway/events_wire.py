"""Writing an `EventStream` to the client: Server-Sent Events or a WebSocket.

SSE: each notification is `id: <sequence>`, `event: <event_type>`, `data: <JSON>`; a
`: keepalive` comment goes out when nothing was sent for the keepalive interval; an
overflow ends the stream with `event: overflow` naming the last id to resume after.
WebSocket: one JSON text frame per notification (aiohttp's heartbeat pings keep it
alive); an overflow closes with 4429, a resume point past the retention with 4410.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from aiohttp import WSMsgType, web

from gateway.events_hub import End, Note, StreamEnded
from gateway.events_stream import EventStream
from schemas.errors import Gone, SkymeshError

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often an idle stream checks that its client is still there
CLOSE_GONE = 4410
CLOSE_OVERFLOW = 4429
KEEPALIVE = b": keepalive\n\n"
STALLED_KEEPALIVES = 4


def sse_frame(note: Note) -> bytes:
    return f"id: {note.sequence}\nevent: {note.event_type}\ndata: {note.text}\n\n".encode()


def overflow_message(stream: EventStream) -> dict[str, object]:
    return {
        "message": "this subscriber fell too far behind and was disconnected: reconnect "
        "with Last-Event-ID (or ?after=) set to last_event_id to resume",
        "last_event_id": stream.sent,
    }


def overflow_frame(stream: EventStream) -> bytes:
    """The last SSE event: no `id:` line, so EventSource keeps the last real id."""
    return b"event: overflow\ndata: " + orjson.dumps(overflow_message(stream)) + b"\n\n"


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def pump_sse(
    request: web.Request, response: web.StreamResponse, stream: EventStream, keepalive_s: float
) -> None:
    """Send notifications until the client goes away or the stream ends. A client
    that stops reading altogether is dropped once one write has waited for
    `STALLED_KEEPALIVES` keepalive intervals."""
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    stalled_s = keepalive_s * STALLED_KEEPALIVES

    async def send(data: bytes) -> None:
        nonlocal quiet_since
        await asyncio.wait_for(response.write(data), stalled_s)
        quiet_since = loop.time()

    try:
        while not _gone(request):
            note = await stream.next(min(POLL_S, keepalive_s))
            if note is not None:
                await send(sse_frame(note))
            elif loop.time() - quiet_since >= keepalive_s:
                await send(KEEPALIVE)
    except StreamEnded as end:
        if end.why is End.OVERFLOW:
            with contextlib.suppress(ConnectionError, TimeoutError):
                await send(overflow_frame(stream))
    except (ConnectionError, TimeoutError):
        return  # the client left, or stopped reading
    except SkymeshError as exc:  # a replay page failed mid-stream: the client resumes
        log.warning("event stream ended early: %s", exc.message)


async def pump_ws(ws: web.WebSocketResponse, stream: EventStream) -> None:
    """Send notifications until the client closes or the stream ends (then close
    with a code that says why)."""
    reader = asyncio.create_task(_read_until_closed(ws))
    try:
        while not reader.done() and not ws.closed:
            note = await stream.next(POLL_S)
            if note is not None:
                await ws.send_str(note.text)
    except StreamEnded as end:
        if end.why is End.OVERFLOW:
            reason = f"too slow: resume after {stream.sent}"
            await ws.close(code=CLOSE_OVERFLOW, message=reason.encode())
        else:
            await ws.close(code=1001, message=b"the gateway is shutting down")
    except ConnectionError:
        return
    except SkymeshError as exc:  # a replay page failed mid-stream: the client resumes
        log.warning("event stream ended early: %s", exc.message)
        await ws.close(code=1011, message=b"replay failed: resume later")
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def opened(ws: web.WebSocketResponse, stream: EventStream) -> bool:
    """Start the replay on an accepted WebSocket; when it cannot start, close with a
    code that says why (4410: the resume point is past the retention) and say False."""
    try:
        await stream.open()
    except Gone:
        await ws.close(code=CLOSE_GONE, message=b"resume point older than the retention: resync")
        return False
    except SkymeshError as exc:
        log.warning("event stream could not start: %s", exc.message)
        await ws.close(code=1011, message=b"replay failed: try again later")
        return False
    return True


async def _read_until_closed(ws: web.WebSocketResponse) -> None:
    """Consume what the client sends (nothing is expected) so close frames and pongs
    are processed; returns when the client closed."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return
