"""Identity v3 roles, grants and role assignments (`openstack role create|list|show|
delete`, `role add|remove --project P --user U R`, `role assignment list`). Admins only.

Grants are on projects only (skymesh has no groups, domain roles or system scope), so
`role_assignments` filters by group, domain or system scope match nothing, and
`effective` changes nothing (there is no inheritance to expand).
"""

from __future__ import annotations

from typing import Self
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, model_validator

from gateway.http import body, call, call_none, json, parse, uuid_arg, wrapped
from gateway.identity_views import assignment_view, collection, flag, role_view
from gateway.routing import Access, Routes
from schemas.identity import RoleName
from schemas.messages.conductor_identity_admin import (
    CheckRole,
    CreateRole,
    DeleteRole,
    GrantRole,
    ListRoleAssignments,
    ListRoleAssignmentsReply,
    ListRoles,
    ListRolesReply,
    RevokeRole,
    RoleGrant,
    RoleReply,
    ShowRole,
    UpdateRole,
)
from schemas.types import Description

routes = Routes("identity", "/identity/v3")
GRANT = "/projects/{project_id}/users/{user_id}/roles/{role_id}"
# filters that can only match grants skymesh does not have
UNMATCHABLE = ("group.id", "scope.domain.id", "scope.system", "scope.OS-INHERIT:inherited_to")


class RoleFields(BaseModel):
    """What Keystone accepts in a role body; roles are global (`domain_id` null)."""

    model_config = ConfigDict(extra="ignore")

    name: RoleName | None = None
    description: Description | None = None
    domain_id: str | None = None

    @model_validator(mode="after")
    def _global_only(self) -> Self:
        if self.domain_id is not None:
            raise ValueError("domain-specific roles are not supported: leave domain_id null")
        return self


class RoleCreate(RoleFields):
    name: RoleName


class RoleBody(BaseModel):
    """`{"role": {...}}` (for the document)."""

    role: RoleFields


def _given(fields: RoleFields) -> dict[str, str]:
    return {
        name: value
        for name in ("name", "description")
        if name in fields.model_fields_set and (value := getattr(fields, name)) is not None
    }


@routes.post("/roles", summary="Create a role", access=Access.ADMIN, body=RoleBody)
async def create_role(request: web.Request) -> web.Response:
    fields = parse(RoleCreate, wrapped(await body(request), "role"), "role")
    reply = await call(request, "create_role", parse(CreateRole, _given(fields)), RoleReply)
    return json({"role": role_view(request, reply.role)}, status=201)


@routes.get("/roles", summary="List roles", access=Access.ADMIN, query={"name": "exact name"})
async def list_roles(request: web.Request) -> web.Response:
    if request.query.get("domain_id"):
        return json(collection(request, "roles", []))
    message = parse(ListRoles, {"name": request.query.get("name") or None}, "query")
    reply = await call(request, "list_roles", message, ListRolesReply)
    return json(collection(request, "roles", [role_view(request, r) for r in reply.roles]))


@routes.get("/roles/{role_id}", summary="Show a role", access=Access.ADMIN)
async def show_role(request: web.Request) -> web.Response:
    message = ShowRole(role_id=uuid_arg(request, "role_id", "role"))
    reply = await call(request, "show_role", message, RoleReply)
    return json({"role": role_view(request, reply.role)})


@routes.patch("/roles/{role_id}", summary="Update a role", access=Access.ADMIN, body=RoleBody)
async def update_role(request: web.Request) -> web.Response:
    role_id = uuid_arg(request, "role_id", "role")
    fields = parse(RoleFields, wrapped(await body(request), "role"), "role")
    message = parse(UpdateRole, {"role_id": role_id, **_given(fields)}, "role")
    reply = await call(request, "update_role", message, RoleReply)
    return json({"role": role_view(request, reply.role)})


@routes.delete("/roles/{role_id}", summary="Delete a role and its assignments", access=Access.ADMIN)
async def delete_role(request: web.Request) -> web.Response:
    role_id = uuid_arg(request, "role_id", "role")
    await call_none(request, "delete_role", DeleteRole(role_id=role_id))
    return web.Response(status=204)


def _grant(request: web.Request) -> RoleGrant:
    return RoleGrant(
        project_id=uuid_arg(request, "project_id", "project"),
        user_id=uuid_arg(request, "user_id", "user"),
        role_id=uuid_arg(request, "role_id", "role"),
    )


@routes.put(GRANT, summary="Give a user a role on a project", access=Access.ADMIN, status=204)
async def grant_role(request: web.Request) -> web.Response:
    await call_none(request, "grant_role", GrantRole(grant=_grant(request)))
    return web.Response(status=204)


@routes.delete(GRANT, summary="Take a user's role on a project away", access=Access.ADMIN)
async def revoke_role(request: web.Request) -> web.Response:
    await call_none(request, "revoke_role", RevokeRole(grant=_grant(request)))
    return web.Response(status=204)


@routes.head(
    GRANT, summary="Does a user hold a role on a project?", access=Access.ADMIN, status=204
)
async def check_role_head(request: web.Request) -> web.Response:
    await call_none(request, "check_role", CheckRole(grant=_grant(request)))
    return web.Response(status=204)


@routes.get(GRANT, summary="Does a user hold a role on a project?", access=Access.ADMIN, status=204)
async def check_role(request: web.Request) -> web.Response:
    await call_none(request, "check_role", CheckRole(grant=_grant(request)))
    return web.Response(status=204)


@routes.get(
    "/projects/{project_id}/users/{user_id}/roles",
    summary="The roles a user holds on a project",
    access=Access.ADMIN,
)
async def user_roles_on_project(request: web.Request) -> web.Response:
    message = ListRoles(
        project_id=uuid_arg(request, "project_id", "project"),
        user_id=uuid_arg(request, "user_id", "user"),
    )
    reply = await call(request, "list_roles", message, ListRolesReply)
    return json(collection(request, "roles", [role_view(request, r) for r in reply.roles]))


def _id_filter(request: web.Request, name: str) -> tuple[bool, UUID | None]:
    """(matchable, id) of an id filter: a value that is no UUID matches nothing."""
    raw = request.query.get(name)
    if not raw:
        return True, None
    try:
        return True, UUID(raw)
    except ValueError:
        return False, None


@routes.get(
    "/role_assignments",
    summary="List role assignments",
    access=Access.ADMIN,
    query={
        "scope.project.id": "project",
        "user.id": "user",
        "role.id": "role",
        "include_names": "show names too",
        "effective": "accepted (no inheritance to expand)",
    },
)
async def list_role_assignments(request: web.Request) -> web.Response:
    filters = {
        field: _id_filter(request, name)
        for field, name in (
            ("project_id", "scope.project.id"),
            ("user_id", "user.id"),
            ("role_id", "role.id"),
        )
    }
    matchable = all(ok for ok, _ in filters.values())
    if not matchable or any(request.query.get(name) for name in UNMATCHABLE):
        return json(collection(request, "role_assignments", []))
    message = ListRoleAssignments(**{field: value for field, (_, value) in filters.items()})
    reply = await call(request, "list_role_assignments", message, ListRoleAssignmentsReply)
    names = bool(flag(request, "include_names"))
    shown = [assignment_view(request, a, names=names) for a in reply.assignments]
    return json(collection(request, "role_assignments", shown))
