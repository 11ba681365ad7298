"""`GET /v1/servers/{server_id}/placement` (admins): why the scheduler would place a
server where it would, from the server's stored request spec, as it would decide now.

The answer counts the hosts each filter removed (in the order the filters run), names
the filter that removed the last hosts, and shows the best hosts with each weigher's
share of their score; `?host=NAME` adds that host's verdict (the filter that removed it
with the reason, or its rank and weight); `?limit=N` (1-100, default 3) sets how many
of the best hosts to show.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from gateway.errors import bad_request
from gateway.http import call, json, query_int, uuid_arg
from gateway.routing import Access, Routes
from schemas.messages.conductor_placement import (
    ExplainServerPlacement,
    ExplainServerPlacementReply,
)
from schemas.types import HostName

routes = Routes("compute", "/v1")

QUERY = {
    "host": "also say why this host was or was not chosen",
    "limit": "how many of the best hosts to show (1-100, default 3)",
}
_HOST = TypeAdapter(HostName)


def _host(request: web.Request) -> str | None:
    raw = request.query.get("host")
    if raw is None:
        return None
    try:
        return _HOST.validate_python(raw)
    except ValidationError:
        raise bad_request(f"query parameter host is not a host name: {raw!r}") from None


def _limit(request: web.Request) -> int:
    limit = query_int(request, "limit", 3)
    assert limit is not None
    if not 1 <= limit <= 100:
        raise bad_request("query parameter limit must be between 1 and 100")
    return limit


def placement_body(reply: ExplainServerPlacementReply) -> dict[str, Any]:
    shown: dict[str, Any] = reply.explanation.model_dump(mode="json")
    return {"server_id": str(reply.server_id), "current_host": reply.current_host, **shown}


@routes.get(
    "/servers/{server_id}/placement",
    summary="Explain where and why the scheduler would place a server (admin)",
    access=Access.ADMIN,
    query=QUERY,
)
async def explain_placement(request: web.Request) -> web.Response:
    message = ExplainServerPlacement(
        server_id=uuid_arg(request, "server_id", "Server"),
        host=_host(request),
        limit=_limit(request),
    )
    reply = await call(request, "explain_placement", message, ExplainServerPlacementReply)
    return json({"placement": placement_body(reply)})
