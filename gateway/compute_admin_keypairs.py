"""Compute v2.1 key pairs (`/os-keypairs`): a user's own, any user's for an admin with
`user_id` (2.10). Create imports `public_key` or, without one, generates the pair and
returns the private key once. `type` from 2.2 (which also made create 201 and delete
204), `limit`/`marker` from 2.35."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.compute_admin import next_links
from gateway.compute_admin_keygen import generate
from gateway.errors import bad_request, not_found
from gateway.http import body, call, call_none, caller, iso, json, parse, query_int, wrapped
from gateway.microversion import microversion
from gateway.routing import Routes
from schemas.compute_admin import KeyPair, KeyPairName, KeyPairType
from schemas.messages.conductor_compute_admin import (
    CreateKeyPair,
    DeleteKeyPair,
    GetKeyPair,
    KeyPairReply,
    KeyPairsReply,
    ListKeyPairs,
)

routes = Routes("compute", "/compute/v2.1")
NAME = re.compile(r"[A-Za-z0-9 _.@-]{1,255}")


class KeyPairCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyPairName
    type: KeyPairType = KeyPairType.SSH
    public_key: str | None = Field(None, min_length=1, max_length=16384)
    user_id: UUID | None = None


class KeyPairBody(BaseModel):
    keypair: dict[str, Any]


def keypair_view(request: web.Request, keypair: KeyPair, *, full: bool) -> dict[str, Any]:
    """`full` for show and create (with user_id and times), not for the list."""
    view: dict[str, Any] = {
        "name": keypair.name,
        "public_key": keypair.public_key,
        "fingerprint": keypair.fingerprint,
    }
    if microversion(request) >= (2, 2):
        view["type"] = keypair.type.value
    if full:
        view["user_id"] = str(keypair.user_id)
    return view


def _user(request: web.Request, given: UUID | None = None) -> UUID | None:
    """The `user_id` query parameter (2.10, admins) or the body's."""
    raw = request.query.get("user_id")
    if raw is None or microversion(request) < (2, 10):  # Nova ignores it before 2.10
        return given
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request(f"user_id {raw!r} is not a user id") from None


def _name(request: web.Request) -> str:
    """The key pair name in the path; a name no key pair can have is simply not found."""
    name = request.match_info["keypair_name"]
    if not NAME.fullmatch(name):
        raise not_found(f"Keypair {name} not found.")
    return name


@routes.get(
    "/os-keypairs",
    summary="List your key pairs (an admin: any user's with user_id)",
    query={"user_id": "whose key pairs (admins, 2.10)", "limit": "2.35", "marker": "2.35"},
)
async def list_keypairs(request: web.Request) -> web.Response:
    paged = microversion(request) >= (2, 35)
    limit = query_int(request, "limit") if paged else None
    if limit is not None and limit < 1:
        raise bad_request("limit must be a positive integer")
    marker = request.query.get("marker") if paged else None
    message = parse(
        ListKeyPairs, {"user_id": _user(request), "limit": limit, "marker": marker}, "query"
    )
    reply = await call(request, "list_keypairs", message, KeyPairsReply)
    names = [k.name for k in reply.keypairs]
    last = names[-1] if limit is not None and len(names) == limit else None
    return json(
        {
            "keypairs": [{"keypair": keypair_view(request, k, full=False)} for k in reply.keypairs],
            **next_links(request, "keypairs", last),
        }
    )


@routes.post("/os-keypairs", summary="Import or generate a key pair", body=KeyPairBody)
async def create_keypair(request: web.Request) -> web.Response:
    given = parse(KeyPairCreate, wrapped(await body(request), "keypair"), "keypair")
    if given.type is not KeyPairType.SSH and microversion(request) < (2, 2):
        raise bad_request("type needs microversion 2.2 or later")
    if given.user_id is not None and microversion(request) < (2, 10):
        raise bad_request("user_id needs microversion 2.10 or later")
    user_id = _user(request, given.user_id)
    private_key = None
    public_key = given.public_key
    if public_key is None:
        pair = generate(given.type, str(user_id or caller(request).user_id))
        public_key, private_key = pair.public_key, pair.private_key
    message = CreateKeyPair(
        name=given.name, type=given.type, public_key=public_key, user_id=user_id
    )
    reply = await call(request, "create_keypair", message, KeyPairReply)
    view = keypair_view(request, reply.keypair, full=True)
    if private_key is not None:
        view["private_key"] = private_key
    return json({"keypair": view}, status=201 if microversion(request) >= (2, 2) else 200)


@routes.get("/os-keypairs/{keypair_name}", summary="Show a key pair")
async def show_keypair(request: web.Request) -> web.Response:
    message = GetKeyPair(name=_name(request), user_id=_user(request))
    reply = await call(request, "get_keypair", message, KeyPairReply)
    view = keypair_view(request, reply.keypair, full=True)
    view.update(
        {
            "created_at": iso(reply.keypair.created_at),
            "updated_at": None,
            "deleted": False,
            "deleted_at": None,
        }
    )
    return json({"keypair": view})


@routes.delete("/os-keypairs/{keypair_name}", summary="Delete a key pair")
async def delete_keypair(request: web.Request) -> web.Response:
    message = DeleteKeyPair(name=_name(request), user_id=_user(request))
    await call_none(request, "delete_keypair", message)
    return web.Response(status=204 if microversion(request) >= (2, 2) else 202)
