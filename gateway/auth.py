"""Token checks: every route that is not public needs a valid X-Auth-Token, and the
caller's roles must allow the route's access level.

Validation is a conductor call; answers are kept for `token_cache_s` seconds (bounded
in size) so a burst of requests costs one call. A revocation through this gateway
drops the cached entry at once; through another gateway it takes effect within
`token_cache_s`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime

from aiohttp import web

from gateway.context import Caller
from gateway.errors import HttpError
from gateway.http import CALLER_KEY, REQUEST_ID_KEY, gateway
from gateway.routing import Access, Route
from schemas.errors import Unauthorized
from schemas.messages.conductor_identity import TokenInfo, ValidateToken, ValidateTokenReply

AUTH_REQUIRED = "The request you have made requires authentication."
QUERY_TOKEN_SERVICES = frozenset({"events"})
"""Services whose routes also take the token as `?token=`: browsers' EventSource and
WebSocket cannot set headers. Every other route takes X-Auth-Token only."""


class TokenCache:
    def __init__(self, ttl_s: float, size: int = 10_000) -> None:
        self.ttl = ttl_s
        self.size = size
        self._entries: OrderedDict[str, tuple[float, TokenInfo]] = OrderedDict()

    def get(self, token: str) -> TokenInfo | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        until, info = entry
        if until < time.monotonic() or info.expires_at <= datetime.now(UTC):
            self._entries.pop(token, None)
            return None
        return info

    def put(self, token: str, info: TokenInfo) -> None:
        if self.ttl <= 0:
            return
        self._entries[token] = (time.monotonic() + self.ttl, info)
        self._entries.move_to_end(token)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, token: str) -> None:
        self._entries.pop(token, None)


TOKEN_CACHE = "token_cache"


def token_cache(request: web.Request) -> TokenCache:
    cache: TokenCache = gateway(request).state[TOKEN_CACHE]
    return cache


async def validate(request: web.Request, token: str) -> TokenInfo:
    cache = token_cache(request)
    info = cache.get(token)
    if info is None:
        try:
            reply = await gateway(request).client.call(
                "conductor.validate_token", ValidateToken(token=token), ValidateTokenReply
            )
        except Unauthorized as exc:
            raise HttpError(401, exc.message) from None
        info = reply.info
        cache.put(token, info)
    return info


async def authorise(request: web.Request, route: Route) -> None:
    """Put the caller on the request, or refuse it (401 without a valid token, 403
    when the caller's roles do not allow the route)."""
    token = request.headers.get("X-Auth-Token", "").strip()
    if not token and route.service in QUERY_TOKEN_SERVICES:
        token = request.query.get("token", "").strip()
    if not token:
        raise HttpError(401, AUTH_REQUIRED)
    if len(token) < 16 or len(token) > 1024:
        raise HttpError(401, "The token is invalid, expired or revoked.")
    info = await validate(request, token)
    who = Caller(token=token, info=info, request_id=request[REQUEST_ID_KEY])
    request[CALLER_KEY] = who
    if route.access is Access.ADMIN and not who.is_admin:
        raise HttpError(403, f"Policy doesn't allow {route.method} {route.path} (admin only).")
    if route.access is Access.MEMBER and not who.may_write:
        raise HttpError(403, "Policy doesn't allow this operation for a reader.")
