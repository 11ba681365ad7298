"""Identity v3 users (`openstack user ...`, `openstack user password set`).

Admins manage users; a user may show itself, change its own password (proving the
current one) and list the projects it has a role on. Passwords go to the conductor,
which hashes them; no answer ever carries a password or its hash. A new password or
disabling a user revokes every token it holds (within the gateway's token cache time).
"""

from __future__ import annotations

from typing import Any, Self

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from gateway.http import body, call, call_none, json, parse, uuid_arg, wrapped
from gateway.identity_views import DOMAIN_ID, collection, flag, other_domain, project_view
from gateway.identity_views import user_view as view
from gateway.routing import Access, Routes
from schemas.messages.conductor_identity_admin import (
    ChangePassword,
    CreateUser,
    DeleteUser,
    ListProjects,
    ListProjectsReply,
    ListUsers,
    ListUsersReply,
    ShowUser,
    UpdateUser,
    UserReply,
)
from schemas.types import Description, Name

routes = Routes("identity", "/identity/v3")
FIELDS = ("name", "password", "email", "description", "enabled", "default_project_id")


class UserFields(BaseModel):
    """What Keystone accepts in a user body (all optional, for PATCH)."""

    model_config = ConfigDict(extra="ignore")

    name: Name | None = None
    password: StrictStr | None = Field(None, min_length=1, max_length=4096)
    email: StrictStr | None = Field(None, max_length=255)
    description: Description | None = None
    enabled: StrictBool | None = None
    default_project_id: StrictStr | None = None
    domain_id: str | None = None

    @model_validator(mode="after")
    def _default_domain_only(self) -> Self:
        if self.domain_id not in (None, DOMAIN_ID):
            raise ValueError(f"domain {self.domain_id} does not exist: use {DOMAIN_ID!r}")
        return self


class UserCreate(UserFields):
    name: Name


class UserBody(BaseModel):
    """`{"user": {...}}` (for the document)."""

    user: UserFields


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    original_password: StrictStr = Field(min_length=1, max_length=4096)
    password: StrictStr = Field(min_length=1, max_length=4096)


class PasswordBody(BaseModel):
    """`{"user": {"original_password": ..., "password": ...}}` (for the document)."""

    user: PasswordChange


def _given(fields: UserFields) -> dict[str, Any]:
    return {
        name: getattr(fields, name)
        for name in FIELDS
        if name in fields.model_fields_set and getattr(fields, name) is not None
    }


@routes.post("/users", summary="Create a user", access=Access.ADMIN, body=UserBody)
async def create_user(request: web.Request) -> web.Response:
    fields = parse(UserCreate, wrapped(await body(request), "user"), "user")
    message = parse(CreateUser, _given(fields), "user")
    reply = await call(request, "create_user", message, UserReply)
    return json({"user": view(request, reply.user)}, status=201)


@routes.get(
    "/users",
    summary="List users (admins)",
    access=Access.ADMIN,
    query={"name": "exact name", "enabled": "true or false", "domain_id": "only default"},
)
async def list_users(request: web.Request) -> web.Response:
    if other_domain(request):
        return json(collection(request, "users", []))
    message = parse(
        ListUsers,
        {"name": request.query.get("name") or None, "enabled": flag(request, "enabled")},
        "query",
    )
    reply = await call(request, "list_users", message, ListUsersReply)
    return json(collection(request, "users", [view(request, u) for u in reply.users]))


@routes.get("/users/{user_id}", summary="Show a user (admins, or the user itself)")
async def show_user(request: web.Request) -> web.Response:
    message = ShowUser(user_id=uuid_arg(request, "user_id", "user"))
    reply = await call(request, "show_user", message, UserReply)
    return json({"user": view(request, reply.user)})


@routes.patch("/users/{user_id}", summary="Update a user", access=Access.ADMIN, body=UserBody)
async def update_user(request: web.Request) -> web.Response:
    user_id = uuid_arg(request, "user_id", "user")
    fields = parse(UserFields, wrapped(await body(request), "user"), "user")
    message = parse(UpdateUser, {"user_id": user_id, **_given(fields)}, "user")
    reply = await call(request, "update_user", message, UserReply)
    return json({"user": view(request, reply.user)})


@routes.delete("/users/{user_id}", summary="Delete a user", access=Access.ADMIN)
async def delete_user(request: web.Request) -> web.Response:
    user_id = uuid_arg(request, "user_id", "user")
    await call_none(request, "delete_user", DeleteUser(user_id=user_id))
    return web.Response(status=204)


@routes.post(
    "/users/{user_id}/password",
    summary="Change one's own password",
    access=Access.READER,
    body=PasswordBody,
    status=204,
)
async def change_password(request: web.Request) -> web.Response:
    user_id = uuid_arg(request, "user_id", "user")
    change = parse(PasswordChange, wrapped(await body(request), "user"), "user")
    message = ChangePassword(
        user_id=user_id, original_password=change.original_password, password=change.password
    )
    await call_none(request, "change_password", message)
    return web.Response(status=204)


@routes.get("/users/{user_id}/projects", summary="The projects a user has a role on")
async def user_projects(request: web.Request) -> web.Response:
    message = parse(
        ListProjects,
        {
            "user_id": uuid_arg(request, "user_id", "user"),
            "name": request.query.get("name") or None,
            "enabled": flag(request, "enabled"),
        },
        "query",
    )
    reply = await call(request, "list_projects", message, ListProjectsReply)
    return json(collection(request, "projects", [project_view(request, p) for p in reply.projects]))
