"""Compute v2.1 hypervisors (`/os-hypervisors`, admin): each compute host with its
capacity (VCPU, MEMORY_MB, DISK_GB inventories) and what its servers take of it.

From 2.53 a hypervisor is named by its uuid, lists filter with
`hypervisor_hostname_pattern` and take `with_servers`; before, by an integer id, with
`/os-hypervisors/{pattern}/search` and `/{pattern}/servers`. `cpu_info` is a JSON string
before 2.28 and an object after. The fields are those before 2.88 (the maximum served
is 2.79), `/os-hypervisors/statistics` included."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from aiohttp import web

from gateway.errors import HttpError, bad_request, not_found
from gateway.http import call, json, parse
from gateway.microversion import microversion
from gateway.routing import Access, Routes
from schemas.compute_admin import Hypervisor
from schemas.messages.conductor_compute_admin import HypervisorsReply, ListHypervisors

routes = Routes("compute", "/compute/v2.1")
NEW_IDS = (2, 53)


def summary_view(request: web.Request, hyp: Hypervisor, *, servers: bool) -> dict[str, Any]:
    service = hyp.service
    view: dict[str, Any] = {
        "id": str(service.id) if microversion(request) >= NEW_IDS else service.number,
        "hypervisor_hostname": service.host,
        "state": "up" if service.is_up else "down",
        "status": "enabled" if service.enabled else "disabled",
    }
    if servers and (hyp.servers or microversion(request) >= (2, 75)):
        view["servers"] = [{"uuid": str(s.id), "name": s.name} for s in hyp.servers]
    return view


def detail_view(request: web.Request, hyp: Hypervisor, *, servers: bool) -> dict[str, Any]:
    service = hyp.service
    new_ids = microversion(request) >= NEW_IDS
    cpu_info: dict[str, Any] = {"model": hyp.cpu_model} if hyp.cpu_model else {}
    free_disk = hyp.local_gb - hyp.local_gb_used
    view = summary_view(request, hyp, servers=servers)
    view.update(
        {
            "vcpus": hyp.vcpus,
            "vcpus_used": hyp.vcpus_used,
            "memory_mb": hyp.memory_mb,
            "memory_mb_used": hyp.memory_mb_used,
            "local_gb": hyp.local_gb,
            "local_gb_used": hyp.local_gb_used,
            "free_ram_mb": hyp.memory_mb - hyp.memory_mb_used,
            "free_disk_gb": free_disk,
            "disk_available_least": free_disk,
            "current_workload": hyp.current_workload,
            "running_vms": hyp.running_vms,
            "hypervisor_type": hyp.hypervisor_type,
            "hypervisor_version": hyp.hypervisor_version,
            "host_ip": hyp.host_ip,
            "cpu_info": cpu_info
            if microversion(request) >= (2, 28)
            else orjson.dumps(cpu_info).decode(),
            "service": {
                "host": service.host,
                "id": str(service.id) if new_ids else service.number,
                "disabled_reason": service.disabled_reason,
            },
        }
    )
    return view


def _with_servers(request: web.Request) -> bool:
    raw = request.query.get("with_servers")
    if raw is None:
        return False
    if microversion(request) < NEW_IDS:
        raise bad_request("with_servers needs microversion 2.53 or later")
    lowered = raw.strip().lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise bad_request(f"with_servers must be a boolean, not {raw!r}")
    return lowered in ("true", "1", "yes")


async def _hypervisors(request: web.Request, **fields: Any) -> tuple[Hypervisor, ...]:
    message = parse(ListHypervisors, fields, "query")
    return (await call(request, "list_hypervisors", message, HypervisorsReply)).hypervisors


async def _listing(request: web.Request, *, detail: bool) -> web.Response:
    servers = _with_servers(request)
    pattern = request.query.get("hypervisor_hostname_pattern")
    if pattern is not None and microversion(request) < NEW_IDS:
        raise bad_request("hypervisor_hostname_pattern needs microversion 2.53 or later")
    found = await _hypervisors(request, pattern=pattern or None, with_servers=servers)
    if pattern and not found:
        raise not_found(f"No hypervisor matching '{pattern}' could be found.")
    view = detail_view if detail else summary_view
    return json({"hypervisors": [view(request, h, servers=servers) for h in found]})


QUERY = {
    "hypervisor_hostname_pattern": "host names containing this (2.53)",
    "with_servers": "list each hypervisor's servers (2.53)",
}


@routes.get("/os-hypervisors", summary="List hypervisors (admin)", access=Access.ADMIN, query=QUERY)
async def list_hypervisors(request: web.Request) -> web.Response:
    return await _listing(request, detail=False)


@routes.get(
    "/os-hypervisors/detail",
    summary="List hypervisors with details (admin)",
    access=Access.ADMIN,
    query=QUERY,
)
async def list_hypervisors_detail(request: web.Request) -> web.Response:
    return await _listing(request, detail=True)


@routes.get(
    "/os-hypervisors/statistics",
    summary="The totals over every hypervisor (admin)",
    access=Access.ADMIN,
)
async def hypervisor_statistics(request: web.Request) -> web.Response:
    found = await _hypervisors(request)
    totals = {
        name: sum(int(detail_view(request, h, servers=False)[name] or 0) for h in found)
        for name in (
            "vcpus",
            "vcpus_used",
            "memory_mb",
            "memory_mb_used",
            "local_gb",
            "local_gb_used",
            "free_ram_mb",
            "free_disk_gb",
            "disk_available_least",
            "current_workload",
            "running_vms",
        )
    }
    return json({"hypervisor_statistics": {"count": len(found), **totals}})


@routes.get(
    "/os-hypervisors/{hypervisor_id}",
    summary="Show a hypervisor (admin)",
    access=Access.ADMIN,
    query={"with_servers": "list its servers (2.53)"},
)
async def show_hypervisor(request: web.Request) -> web.Response:
    servers = _with_servers(request)
    found = await _one(request, servers=servers)
    return json({"hypervisor": detail_view(request, found, servers=servers)})


async def _one(request: web.Request, *, servers: bool) -> Hypervisor:
    """The hypervisor named in the path (a uuid from 2.53, an integer id before)."""
    raw = request.match_info["hypervisor_id"]
    if microversion(request) >= NEW_IDS:
        try:
            fields: dict[str, Any] = {"hypervisor_id": UUID(raw)}
        except ValueError:
            raise bad_request(f"Invalid uuid {raw}") from None
    elif raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
        fields = {"number": int(raw)}
    else:
        raise not_found(f"Hypervisor with ID {raw} could not be found.")
    return (await _hypervisors(request, with_servers=servers, **fields))[0]


@routes.get(
    "/os-hypervisors/{hypervisor_id}/uptime",
    summary="A hypervisor's uptime: not tracked, 501 as Nova answers for such drivers (admin)",
    access=Access.ADMIN,
)
async def hypervisor_uptime(request: web.Request) -> web.Response:
    await _one(request, servers=False)
    raise HttpError(501, "Virt driver does not implement host uptime function.")


async def _by_pattern(request: web.Request, *, servers: bool) -> web.Response:
    if microversion(request) >= NEW_IDS:
        raise not_found("The resource could not be found (removed at 2.53).")
    pattern = request.match_info["pattern"]
    found = await _hypervisors(request, pattern=pattern, with_servers=servers)
    if not found:
        raise not_found(f"No hypervisor matching '{pattern}' could be found.")
    return json({"hypervisors": [summary_view(request, h, servers=servers) for h in found]})


@routes.get(
    "/os-hypervisors/{pattern}/search",
    summary="Hypervisors whose host name contains the pattern (admin, before 2.53)",
    access=Access.ADMIN,
)
async def search_hypervisors(request: web.Request) -> web.Response:
    return await _by_pattern(request, servers=False)


@routes.get(
    "/os-hypervisors/{pattern}/servers",
    summary="Hypervisors matching the pattern with their servers (admin, before 2.53)",
    access=Access.ADMIN,
)
async def hypervisor_servers(request: web.Request) -> web.Response:
    return await _by_pattern(request, servers=True)
