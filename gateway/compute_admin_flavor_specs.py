"""Compute v2.1 flavor extra specs (`/flavors/{id}/os-extra_specs`: anyone who may use
the flavor reads, admins write) and access to private flavors
(`/flavors/{id}/os-flavor-access` and the addTenantAccess / removeTenantAccess actions,
admin only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from gateway.errors import bad_request, not_found
from gateway.http import body, call, json, parse, uuid_arg, wrapped
from gateway.routing import Access, Routes
from schemas.messages.conductor_compute_admin import (
    ChangeFlavorAccess,
    FlavorAccessReply,
    FlavorReply,
    GetFlavor,
    GetFlavorAccess,
    SetFlavorExtraSpecs,
    UnsetFlavorExtraSpec,
)

routes = Routes("compute", "/compute/v2.1")


class ExtraSpecsBody(BaseModel):
    extra_specs: dict[str, Any]


class FlavorActionBody(BaseModel):
    """`{"addTenantAccess": {"tenant": P}}` or `{"removeTenantAccess": {"tenant": P}}`."""

    model_config = ConfigDict(extra="allow")


class TenantRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str


def _specs(data: Any) -> dict[str, str]:
    """Nova takes string, number and boolean values and stores them as strings."""
    if not isinstance(data, dict) or not data:
        raise bad_request("extra_specs must be a non-empty object")
    specs: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            specs[key] = str(value)
        elif isinstance(value, str | int | float):
            specs[key] = str(value)
        else:
            raise bad_request(f"extra spec {key!r} must be a string, number or boolean")
    return specs


async def _set(request: web.Request, flavor_id: UUID, specs: dict[str, str]) -> None:
    try:
        message = SetFlavorExtraSpecs(flavor_id=flavor_id, extra_specs=specs)
    except ValueError as exc:
        raise bad_request(f"invalid extra specs: {exc}") from None
    await call(request, "set_flavor_extra_specs", message, FlavorReply)


@routes.get("/flavors/{flavor_id}/os-extra_specs", summary="List a flavor's extra specs")
async def list_extra_specs(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    reply = await call(request, "get_flavor", GetFlavor(flavor_id=flavor_id), FlavorReply)
    return json({"extra_specs": dict(reply.flavor.extra_specs)})


@routes.post(
    "/flavors/{flavor_id}/os-extra_specs",
    summary="Create or update extra specs (admin)",
    access=Access.ADMIN,
    body=ExtraSpecsBody,
    status=200,
)
async def create_extra_specs(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    specs = _specs((await body(request)).get("extra_specs"))
    await _set(request, flavor_id, specs)
    return json({"extra_specs": specs})


@routes.get("/flavors/{flavor_id}/os-extra_specs/{key}", summary="Show one extra spec")
async def show_extra_spec(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    key = request.match_info["key"]
    reply = await call(request, "get_flavor", GetFlavor(flavor_id=flavor_id), FlavorReply)
    if key not in reply.flavor.extra_specs:
        raise not_found(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return json({key: reply.flavor.extra_specs[key]})


@routes.put(
    "/flavors/{flavor_id}/os-extra_specs/{key}",
    summary="Set one extra spec (admin)",
    access=Access.ADMIN,
)
async def update_extra_spec(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    key = request.match_info["key"]
    given = await body(request)
    if list(given) != [key]:
        raise bad_request("the body must have exactly one key, the one in the URL")
    specs = _specs(given)
    await _set(request, flavor_id, specs)
    return json(specs)


@routes.delete(
    "/flavors/{flavor_id}/os-extra_specs/{key}",
    summary="Delete one extra spec (admin)",
    access=Access.ADMIN,
    status=202,
)
async def delete_extra_spec(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    message = UnsetFlavorExtraSpec(flavor_id=flavor_id, key=request.match_info["key"])
    await call(request, "unset_flavor_extra_spec", message, FlavorReply)
    return web.Response(status=202)


def access_view(reply: FlavorAccessReply) -> dict[str, Any]:
    return {
        "flavor_access": [
            {"flavor_id": str(reply.flavor_id), "tenant_id": str(project)}
            for project in reply.project_ids
        ]
    }


@routes.get(
    "/flavors/{flavor_id}/os-flavor-access",
    summary="List the projects given access to a private flavor (admin)",
    access=Access.ADMIN,
)
async def list_flavor_access(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    message = GetFlavorAccess(flavor_id=flavor_id)
    return json(access_view(await call(request, "get_flavor_access", message, FlavorAccessReply)))


ACTIONS = {"addTenantAccess": True, "removeTenantAccess": False}


@routes.post(
    "/flavors/{flavor_id}/action",
    summary="addTenantAccess / removeTenantAccess to a private flavor (admin)",
    access=Access.ADMIN,
    body=FlavorActionBody,
    status=200,
)
async def flavor_action(request: web.Request) -> web.Response:
    flavor_id = uuid_arg(request, "flavor_id", "Flavor")
    given = await body(request)
    names = [name for name in given if name in ACTIONS]
    if len(names) != 1 or len(given) != 1:
        raise bad_request("the body must be one action: addTenantAccess or removeTenantAccess")
    ref = parse(TenantRef, wrapped(given, names[0]), names[0])
    try:
        project_id = UUID(ref.tenant)
    except ValueError:
        raise bad_request(f"tenant {ref.tenant!r} is not a project id") from None
    message = ChangeFlavorAccess(
        flavor_id=flavor_id, project_id=project_id, grant=ACTIONS[names[0]]
    )
    reply = await call(request, "change_flavor_access", message, FlavorAccessReply)
    return json(access_view(reply))
