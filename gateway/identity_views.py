"""How Keystone shows projects, users, roles, domains and role assignments, and the
query conventions its list calls share (`links` on collections, boolean flags).

skymesh has exactly one domain, Keystone's `default`: every project and user lives
in it, and roles are global (`domain_id` null), as Keystone's own are by default.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from gateway.http import gateway, url
from gateway.identity_tokens import DEFAULT_DOMAIN
from schemas.identity import Project, Role, User
from schemas.messages.conductor_identity_admin import Assignment

BASE = "/identity/v3"
DOMAIN_ID = DEFAULT_DOMAIN["id"]


def link(request: web.Request, path: str) -> dict[str, str]:
    return {"self": url(request, BASE + path)}


def collection(request: web.Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """`{key: items, "links": {...}}`: every list is one page (no `next`)."""
    here = gateway(request).public_url.rstrip("/") + str(request.rel_url)
    return {key: items, "links": {"self": here, "previous": None, "next": None}}


def flag(request: web.Request, name: str) -> bool | None:
    """A boolean query parameter as Keystone reads it: absent is None, `0`/`false` is
    False, anything else (even empty) True."""
    raw = request.query.get(name)
    if raw is None:
        return None
    return raw.lower() not in ("0", "false")


def other_domain(request: web.Request) -> bool:
    """Does the query ask for a domain other than `default` (so nothing matches)?"""
    domain = request.query.get("domain_id")
    return domain is not None and domain != DOMAIN_ID


def project_view(request: web.Request, project: Project) -> dict[str, Any]:
    return {
        "id": str(project.id),
        "name": project.name,
        "description": project.description,
        "domain_id": DOMAIN_ID,
        "enabled": project.enabled,
        "is_domain": False,
        "parent_id": DOMAIN_ID,
        "tags": [],
        "options": {},
        "links": link(request, f"/projects/{project.id}"),
    }


def user_view(request: web.Request, user: User) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(user.id),
        "name": user.name,
        "domain_id": DOMAIN_ID,
        "enabled": user.enabled,
        "password_expires_at": None,
        "options": {},
        "links": link(request, f"/users/{user.id}"),
    }
    if user.default_project_id is not None:
        view["default_project_id"] = str(user.default_project_id)
    if user.email is not None:
        view["email"] = user.email
    if user.description:
        view["description"] = user.description
    return view


def role_view(request: web.Request, role: Role) -> dict[str, Any]:
    return {
        "id": str(role.id),
        "name": role.name,
        "domain_id": None,
        "description": role.description,
        "options": {"immutable": True} if role.immutable else {},
        "links": link(request, f"/roles/{role.id}"),
    }


def domain_view(request: web.Request) -> dict[str, Any]:
    return {
        "id": DOMAIN_ID,
        "name": DEFAULT_DOMAIN["name"],
        "description": "The default domain",
        "enabled": True,
        "tags": [],
        "options": {},
        "links": link(request, f"/domains/{DOMAIN_ID}"),
    }


def grant_path(project_id: UUID, user_id: UUID, role_id: UUID) -> str:
    return f"/projects/{project_id}/users/{user_id}/roles/{role_id}"


def assignment_view(request: web.Request, assignment: Assignment, *, names: bool) -> dict[str, Any]:
    """Ids only, or with `include_names` the names (and the domain of users and
    projects) too."""

    def ref(item: Any, in_domain: bool) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": str(item.id)}
        if names:
            shown["name"] = item.name
            if in_domain:
                shown["domain"] = dict(DEFAULT_DOMAIN)
        return shown

    path = grant_path(assignment.project.id, assignment.user.id, assignment.role.id)
    return {
        "role": ref(assignment.role, False),
        "user": ref(assignment.user, True),
        "scope": {"project": ref(assignment.project, True)},
        "links": {"assignment": url(request, BASE + path)},
    }
