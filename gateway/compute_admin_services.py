"""Compute v2.1 services (`/os-services`, admin): each compute host is a `nova-compute`
service. From 2.53 a service is named by its uuid and updated with `PUT
/os-services/{id}` (`status`, `disabled_reason`, `forced_down`); before, by an integer
id, and updated through `PUT /os-services/enable|disable|disable-log-reason|force-down`
with `host` and `binary`. Availability zones (`/os-availability-zone`) are here too:
they are the services grouped by zone."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import bad_request, not_found
from gateway.http import body, call, call_none, iso, json, parse
from gateway.microversion import microversion
from gateway.routing import Access, Routes
from schemas.compute_admin import ComputeService
from schemas.messages.conductor_compute_admin import (
    AvailabilityZonesReply,
    DeleteService,
    ListAvailabilityZones,
    ListServices,
    ServiceReply,
    ServicesReply,
    UpdateService,
)

routes = Routes("compute", "/compute/v2.1")
Reason = Field(None, min_length=1, max_length=255)


def service_id(request: web.Request, service: ComputeService) -> str | int:
    return str(service.id) if microversion(request) >= (2, 53) else service.number


def service_view(request: web.Request, service: ComputeService) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": service_id(request, service),
        "binary": service.binary,
        "host": service.host,
        "zone": service.zone,
        "status": "enabled" if service.enabled else "disabled",
        "state": "up" if service.is_up else "down",
        "updated_at": iso(service.updated_at),
        "disabled_reason": service.disabled_reason,
    }
    if microversion(request) >= (2, 11):
        view["forced_down"] = service.forced_down
    return view


@routes.get(
    "/os-services",
    summary="List compute services (admin)",
    access=Access.ADMIN,
    query={"host": "only this host's", "binary": "only this binary (nova-compute)"},
)
async def list_services(request: web.Request) -> web.Response:
    message = parse(
        ListServices,
        {"host": request.query.get("host"), "binary": request.query.get("binary")},
        "query",
    )
    reply = await call(request, "list_services", message, ServicesReply)
    return json({"services": [service_view(request, s) for s in reply.services]})


class ServiceUpdate(BaseModel):
    """The 2.53 body."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["enabled", "disabled"] | None = None
    disabled_reason: str | None = Reason
    forced_down: bool | None = None


class LegacyServiceUpdate(BaseModel):
    """The body of the actions before 2.53."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    binary: str = Field(min_length=1, max_length=255)
    disabled_reason: str | None = Reason
    forced_down: bool | None = None


LEGACY_ACTIONS = ("enable", "disable", "disable-log-reason", "force-down")


def _uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request(f"Invalid uuid {raw}") from None


def update_message(given: ServiceUpdate, service: UUID) -> UpdateService:
    if given.status is None and given.forced_down is None:
        raise bad_request("give status or forced_down (or both)")
    if given.disabled_reason is not None and given.status != "disabled":
        raise bad_request("disabled_reason needs status disabled")
    return UpdateService(
        service_id=service,
        enabled=None if given.status is None else given.status == "enabled",
        disabled_reason=given.disabled_reason,
        forced_down=given.forced_down,
    )


def legacy_message(request: web.Request, action: str, given: LegacyServiceUpdate) -> UpdateService:
    if given.binary != "nova-compute":
        raise not_found(f"Service {given.binary} on host {given.host} could not be found.")
    if action == "force-down":
        if microversion(request) < (2, 11) or given.forced_down is None:
            raise bad_request("force-down needs microversion 2.11 and forced_down")
        return parse(UpdateService, {"host": given.host, "forced_down": given.forced_down})
    if action == "disable-log-reason" and not given.disabled_reason:
        raise bad_request("disable-log-reason needs a disabled_reason")
    return parse(
        UpdateService,
        {
            "host": given.host,
            "enabled": action == "enable",
            "disabled_reason": given.disabled_reason if action == "disable-log-reason" else None,
        },
    )


def legacy_view(action: str, service: ComputeService) -> dict[str, Any]:
    view: dict[str, Any] = {"host": service.host, "binary": service.binary}
    if action == "force-down":
        view["forced_down"] = service.forced_down
        return view
    view["status"] = "enabled" if service.enabled else "disabled"
    if action == "disable-log-reason":
        view["disabled_reason"] = service.disabled_reason
    return view


@routes.put(
    "/os-services/{service_id}",
    summary="Enable, disable (with a reason) or force down a compute service (admin)",
    access=Access.ADMIN,
    body=ServiceUpdate,
)
async def update_service(request: web.Request) -> web.Response:
    raw = request.match_info["service_id"]
    data = await body(request)
    if microversion(request) >= (2, 53):
        message = update_message(parse(ServiceUpdate, data, "service"), _uuid(raw))
        reply = await call(request, "update_service", message, ServiceReply)
        return json({"service": service_view(request, reply.service)})
    if raw not in LEGACY_ACTIONS:
        raise not_found(f"Unknown action {raw}")
    message = legacy_message(request, raw, parse(LegacyServiceUpdate, data, "service"))
    reply = await call(request, "update_service", message, ServiceReply)
    return json({"service": legacy_view(raw, reply.service)})


@routes.delete(
    "/os-services/{service_id}",
    summary="Delete a compute service that runs no servers (admin)",
    access=Access.ADMIN,
)
async def delete_service(request: web.Request) -> web.Response:
    raw = request.match_info["service_id"]
    if microversion(request) >= (2, 53):
        message = DeleteService(service_id=_uuid(raw))
    elif raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
        message = DeleteService(number=int(raw))
    else:
        raise bad_request(f"Invalid service id {raw}")
    await call_none(request, "delete_service", message)
    return web.Response(status=204)


async def _zones(request: web.Request, *, detail: bool) -> web.Response:
    reply = await call(
        request, "list_availability_zones", ListAvailabilityZones(), AvailabilityZonesReply
    )
    info = []
    for zone in reply.zones:
        hosts: dict[str, Any] | None = None
        if detail:
            hosts = {
                s.host: {
                    s.binary: {
                        "available": s.enabled,
                        "active": s.is_up,
                        "updated_at": iso(s.updated_at),
                    }
                }
                for s in zone.services
            }
        info.append(
            {"zoneName": zone.name, "zoneState": {"available": zone.available}, "hosts": hosts}
        )
    return json({"availabilityZoneInfo": info})


@routes.get("/os-availability-zone", summary="List availability zones")
async def list_zones(request: web.Request) -> web.Response:
    return await _zones(request, detail=False)


@routes.get(
    "/os-availability-zone/detail",
    summary="List availability zones with their hosts and services (admin)",
    access=Access.ADMIN,
)
async def list_zones_detail(request: web.Request) -> web.Response:
    return await _zones(request, detail=True)
