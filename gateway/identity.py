"""Identity v3 projects and domains (`openstack project ...`, `openstack domain ...`),
and the caller's own view: `GET /auth/projects` and `GET /auth/catalog`.

Project management is for admins; a user may show the project its token is scoped to
and list the projects it has a role on. Lookups by name go `GET /projects/<name>`
(a clean 404) then `GET /projects?name=<name>`.
"""

from __future__ import annotations

from typing import Any, Self

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StrictBool, model_validator

from gateway.discovery import catalog
from gateway.errors import not_found
from gateway.http import body, call, call_none, caller, gateway, json, parse, uuid_arg, wrapped
from gateway.identity_views import (
    DOMAIN_ID,
    collection,
    domain_view,
    flag,
    other_domain,
    project_view,
)
from gateway.routing import Access, Routes
from schemas.messages.conductor_identity_admin import (
    CreateProject,
    DeleteProject,
    ListProjects,
    ListProjectsReply,
    ProjectReply,
    ShowProject,
    UpdateProject,
)
from schemas.types import Description, Name

routes = Routes("identity", "/identity/v3")


class ProjectFields(BaseModel):
    """What Keystone accepts in a project body; skymesh projects are flat and live in
    the default domain, so `domain_id`, `parent_id` and `is_domain` may only say so."""

    model_config = ConfigDict(extra="ignore")

    name: Name | None = None
    description: Description | None = None
    enabled: StrictBool | None = None
    domain_id: str | None = None
    parent_id: str | None = None
    is_domain: StrictBool | None = None

    @model_validator(mode="after")
    def _default_domain_only(self) -> Self:
        if self.domain_id not in (None, DOMAIN_ID):
            raise ValueError(f"domain {self.domain_id} does not exist: use {DOMAIN_ID!r}")
        if self.parent_id not in (None, DOMAIN_ID):
            raise ValueError("projects cannot be nested: parent_id must be the domain")
        if self.is_domain:
            raise ValueError("is_domain: only the default domain exists")
        return self


class ProjectCreate(ProjectFields):
    name: Name


class ProjectBody(BaseModel):
    """`{"project": {...}}` (for the document)."""

    project: ProjectFields


def _changes(fields: BaseModel, *names: str) -> dict[str, Any]:
    """The named fields the body gave a value (a `null` description clears it)."""
    given = {name: getattr(fields, name) for name in names if name in fields.model_fields_set}
    if "description" in given and given["description"] is None:
        given["description"] = ""
    return {name: value for name, value in given.items() if value is not None}


@routes.post("/projects", summary="Create a project", access=Access.ADMIN, body=ProjectBody)
async def create_project(request: web.Request) -> web.Response:
    fields = parse(ProjectCreate, wrapped(await body(request), "project"), "project")
    message = parse(CreateProject, _changes(fields, "name", "description", "enabled"), "project")
    reply = await call(request, "create_project", message, ProjectReply)
    return json({"project": project_view(request, reply.project)}, status=201)


@routes.get(
    "/projects",
    summary="List projects (admins)",
    access=Access.ADMIN,
    query={"name": "exact name", "enabled": "true or false", "domain_id": "only default"},
)
async def list_projects(request: web.Request) -> web.Response:
    if other_domain(request):
        return json(collection(request, "projects", []))
    message = parse(
        ListProjects,
        {"name": request.query.get("name") or None, "enabled": flag(request, "enabled")},
        "query",
    )
    reply = await call(request, "list_projects", message, ListProjectsReply)
    return json(collection(request, "projects", [project_view(request, p) for p in reply.projects]))


@routes.get("/projects/{project_id}", summary="Show a project (admins, or its own members)")
async def show_project(request: web.Request) -> web.Response:
    message = ShowProject(project_id=uuid_arg(request, "project_id", "project"))
    reply = await call(request, "show_project", message, ProjectReply)
    return json({"project": project_view(request, reply.project)})


@routes.patch(
    "/projects/{project_id}", summary="Update a project", access=Access.ADMIN, body=ProjectBody
)
async def update_project(request: web.Request) -> web.Response:
    project_id = uuid_arg(request, "project_id", "project")
    fields = parse(ProjectFields, wrapped(await body(request), "project"), "project")
    changes = _changes(fields, "name", "description", "enabled")
    message = parse(UpdateProject, {"project_id": project_id, **changes}, "project")
    reply = await call(request, "update_project", message, ProjectReply)
    return json({"project": project_view(request, reply.project)})


@routes.delete(
    "/projects/{project_id}",
    summary="Delete a project that owns no resources any more",
    access=Access.ADMIN,
)
async def delete_project(request: web.Request) -> web.Response:
    project_id = uuid_arg(request, "project_id", "project")
    await call_none(request, "delete_project", DeleteProject(project_id=project_id))
    return web.Response(status=204)


@routes.get("/auth/projects", summary="The projects the caller has a role on")
async def auth_projects(request: web.Request) -> web.Response:
    message = ListProjects(user_id=caller(request).user_id, enabled=True)
    reply = await call(request, "list_projects", message, ListProjectsReply)
    return json(collection(request, "projects", [project_view(request, p) for p in reply.projects]))


@routes.get("/auth/catalog", summary="The service catalog of the caller's token")
async def auth_catalog(request: web.Request) -> web.Response:
    shared = gateway(request)
    entries = catalog(shared.public_url, shared.settings.region)
    return json(collection(request, "catalog", entries))


@routes.get("/domains", summary="List domains (only `default` exists)", query={"name": "exact"})
async def list_domains(request: web.Request) -> web.Response:
    domain = domain_view(request)
    name = request.query.get("name")
    enabled = flag(request, "enabled")
    shown = name in (None, domain["name"]) and enabled in (None, True)
    return json(collection(request, "domains", [domain] if shown else []))


@routes.get("/domains/{domain_id}", summary="Show the default domain")
async def show_domain(request: web.Request) -> web.Response:
    if request.match_info["domain_id"] != DOMAIN_ID:
        raise not_found(f"Could not find domain: {request.match_info['domain_id']}.")
    return json({"domain": domain_view(request)})
