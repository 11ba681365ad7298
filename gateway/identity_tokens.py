"""Identity v3 tokens: `POST /v3/auth/tokens` (password or token method, optionally
scoped to a project), and validation (`GET`/`HEAD`) and revocation (`DELETE`) of the
token in `X-Subject-Token`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from gateway.auth import token_cache, validate
from gateway.discovery import catalog
from gateway.errors import HttpError, bad_request
from gateway.http import body, call_none, caller, gateway, json, wrapped
from gateway.routing import Access, Routes
from schemas.errors import Unauthorized
from schemas.messages.conductor_identity import (
    Authenticate,
    AuthenticateReply,
    RevokeToken,
    TokenInfo,
)

routes = Routes("identity", "/identity/v3")
DEFAULT_DOMAIN = {"id": "default", "name": "Default"}


class AuthRequest(BaseModel):
    """`{"auth": {"identity": {"methods": [...], ...}, "scope": {...}}}` (for the document)."""

    model_config = ConfigDict(extra="allow")
    auth: dict[str, Any]


def _domain_ok(ref: dict[str, Any]) -> None:
    domain = ref.get("domain")
    if isinstance(domain, dict) and domain:
        if domain.get("id", "default") != "default" or domain.get("name", "Default") not in (
            "Default",
            "default",
        ):
            raise HttpError(401, f"unknown domain {domain}; only the Default domain exists")


def authenticate_request(auth: dict[str, Any]) -> Authenticate:
    """Keystone's auth body as an `Authenticate` message; 400 for a malformed one."""
    ident = auth.get("identity")
    if not isinstance(ident, dict) or not isinstance(ident.get("methods"), list):
        raise bad_request("auth.identity.methods is required")
    fields: dict[str, Any] = {}
    methods = ident["methods"]
    if "password" in methods:
        user = (ident.get("password") or {}).get("user")
        if not isinstance(user, dict) or "password" not in user:
            raise bad_request("auth.identity.password.user with a password is required")
        _domain_ok(user)
        fields["password"] = str(user["password"])
        if user.get("id"):
            fields["user_id"] = _uuid(user["id"], "user")
        elif user.get("name"):
            fields["user_name"] = str(user["name"])
        else:
            raise bad_request("auth.identity.password.user needs an id or a name")
    elif "token" in methods:
        token = (ident.get("token") or {}).get("id")
        if not isinstance(token, str) or not token:
            raise bad_request("auth.identity.token.id is required")
        fields["token"] = token
    else:
        raise HttpError(401, f"unsupported authentication methods {methods}: use password or token")
    scope = auth.get("scope")
    if isinstance(scope, dict) and "project" in scope:
        project = scope["project"] or {}
        _domain_ok(project)
        if project.get("id"):
            fields["project_id"] = _uuid(project["id"], "project")
        elif project.get("name"):
            fields["project_name"] = str(project["name"])
        else:
            raise bad_request("auth.scope.project needs an id or a name")
    elif isinstance(scope, dict) and scope and "project" not in scope:
        raise HttpError(401, f"unsupported scope {sorted(scope)}: scope to a project")
    try:
        return Authenticate(**fields)
    except ValueError as exc:
        raise bad_request(str(exc)) from None


def _uuid(raw: Any, what: str) -> UUID:
    try:
        return UUID(str(raw))
    except ValueError:
        raise HttpError(401, f"no such {what}: {raw}") from None


def token_body(request: web.Request, info: TokenInfo) -> dict[str, Any]:
    token: dict[str, Any] = {
        "methods": list(info.methods),
        "user": {
            "id": str(info.user.id),
            "name": info.user.name,
            "domain": DEFAULT_DOMAIN,
            "password_expires_at": None,
        },
        "audit_ids": list(info.audit_ids),
        "issued_at": _keystone_time(info.issued_at),
        "expires_at": _keystone_time(info.expires_at),
    }
    if info.project is not None:
        settings = gateway(request).settings
        token["project"] = {
            "id": str(info.project.id),
            "name": info.project.name,
            "domain": DEFAULT_DOMAIN,
        }
        token["is_domain"] = False
        token["roles"] = [{"id": str(r.id), "name": r.name} for r in info.roles]
        token["catalog"] = catalog(gateway(request).public_url, settings.region)
    return {"token": token}


def _keystone_time(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


@routes.post(
    "/auth/tokens",
    summary="Authenticate (password or token method) and get a token",
    access=Access.PUBLIC,
    body=AuthRequest,
)
async def issue_token(request: web.Request) -> web.Response:
    message = authenticate_request(wrapped(await body(request), "auth"))
    try:
        reply = await gateway(request).client.call(
            "conductor.authenticate", message, AuthenticateReply
        )
    except Unauthorized as exc:
        raise HttpError(401, exc.message) from None
    return json(
        token_body(request, reply.info), status=201, headers={"X-Subject-Token": reply.token}
    )


async def _subject(request: web.Request) -> tuple[str, TokenInfo]:
    subject = request.headers.get("X-Subject-Token", "").strip()
    if not subject:
        raise bad_request("X-Subject-Token is required")
    try:
        info = await validate(request, subject)
    except HttpError as exc:
        raise HttpError(404, f"Could not find token: {subject[:8]}...") from exc
    me = caller(request)
    if info.user.id != me.user_id and not me.is_admin:
        raise HttpError(403, "only the token's user or an admin may inspect it")
    return subject, info


@routes.get("/auth/tokens", summary="Validate the token in X-Subject-Token")
async def check_token(request: web.Request) -> web.Response:
    subject, info = await _subject(request)
    return json(token_body(request, info), headers={"X-Subject-Token": subject})


@routes.head("/auth/tokens", summary="Check the token in X-Subject-Token", status=200)
async def head_token(request: web.Request) -> web.Response:
    subject, _ = await _subject(request)
    return web.Response(status=200, headers={"X-Subject-Token": subject})


@routes.delete("/auth/tokens", summary="Revoke the token in X-Subject-Token", access=Access.READER)
async def revoke_token(request: web.Request) -> web.Response:
    subject, _ = await _subject(request)
    await call_none(request, "revoke_token", RevokeToken(token=subject))
    token_cache(request).drop(subject)
    return web.Response(status=204)
