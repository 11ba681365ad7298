"""A `ServerView` as Nova's server JSON, shaped for the requested microversion.

What each microversion adds (up to the 2.79 served): 2.3 extended server attributes
for admins, 2.9 `locked`, 2.16 `host_status` (admins), 2.19 `description`, 2.26
`tags`, 2.47 the flavor embedded as a dict (before: `{"id", "links"}`), 2.63
`trusted_image_certificates`, 2.71 `server_groups`, 2.73 `locked_reason`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any
from uuid import UUID

from aiohttp import web

from gateway.http import caller, iso, url
from gateway.microversion import Version, microversion
from schemas.instance import Instance
from schemas.messages.conductor_server_extras import ServerPort, ServerView

PREFIX = "/compute/v2.1"
# statuses whose `progress` Nova shows (nova/api/openstack/compute/views/servers.py)
PROGRESS_STATUSES = frozenset(
    {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
)
FAULT_STATUSES = frozenset({"ERROR", "DELETED"})


def links(request: web.Request, collection: str, ident: Any) -> list[dict[str, str]]:
    """Nova's self and bookmark links (without and with the version in the path)."""
    base = url(request, PREFIX)
    return [
        {"rel": "self", "href": f"{base}/{collection}/{ident}"},
        {"rel": "bookmark", "href": f"{base.rsplit('/', 1)[0]}/{collection}/{ident}"},
    ]


def host_id(project_id: UUID, host: str | None) -> str:
    """Nova's hostId: sha224 of project id and host, "" when not on a host."""
    if not host:
        return ""
    return hashlib.sha224((project_id.hex + host).encode()).hexdigest()


def addresses(ports: tuple[ServerPort, ...]) -> dict[str, list[dict[str, Any]]]:
    """`{network name: [{addr, version, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr}]}`."""
    found: dict[str, list[dict[str, Any]]] = {}
    for port in ports:
        entries = found.setdefault(port.network_name or str(port.network_id), [])
        for fixed in port.fixed_ips:
            entries.append(
                {
                    "addr": fixed.ip_address,
                    "version": ipaddress.ip_address(fixed.ip_address).version,
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port.mac_address,
                }
            )
        for floating in port.floating_ips:
            entries.append(
                {
                    "addr": floating,
                    "version": ipaddress.ip_address(floating).version,
                    "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": port.mac_address,
                }
            )
    return found


def flavor(request: web.Request, server: Instance, version: Version) -> dict[str, Any]:
    f = server.flavor
    if version < (2, 47):
        return {"id": str(f.id), "links": links(request, "flavors", f.id)[1:]}
    return {
        "vcpus": f.vcpus,
        "ram": f.memory_mb,
        "disk": f.disk_gb,
        "ephemeral": f.ephemeral_gb,
        "swap": f.swap_mb,
        "original_name": f.name,
        "extra_specs": dict(f.extra_specs),
    }


def image(request: web.Request, server: Instance) -> dict[str, Any] | str:
    """`{"id", "links"}`, or "" for a server booted from a volume (never null)."""
    if server.image_id is None:
        return ""
    return {"id": str(server.image_id), "links": links(request, "images", server.image_id)[1:]}


def fault(server: Instance, admin: bool) -> dict[str, Any] | None:
    if server.fault is None or server.status not in FAULT_STATUSES:
        return None
    shown: dict[str, Any] = {
        "code": server.fault.code,
        "message": server.fault.message,
        "created": iso(server.fault.created_at),
    }
    if admin and server.fault.details:
        shown["details"] = server.fault.details
    return shown


def volumes_attached(view: ServerView, version: Version) -> list[dict[str, Any]]:
    if version >= (2, 3):
        return [
            {"id": str(v.volume_id), "delete_on_termination": v.delete_on_termination}
            for v in view.volumes
        ]
    return [{"id": str(v.volume_id)} for v in view.volumes]


def server_basics(request: web.Request, view: ServerView) -> dict[str, Any]:
    """The fields of every microversion that need no admin rights."""
    s = view.server
    version = microversion(request)
    body: dict[str, Any] = {
        "id": str(s.id),
        "name": s.name,
        "status": s.status.value,
        "tenant_id": str(s.project_id),
        "user_id": str(s.user_id),
        "metadata": dict(s.metadata),
        "hostId": host_id(s.project_id, s.host),
        "image": image(request, s),
        "flavor": flavor(request, s, version),
        "created": iso(s.created_at),
        "updated": iso(s.updated_at or s.created_at),
        "addresses": addresses(view.ports),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links(request, "servers", s.id),
        "OS-DCF:diskConfig": "MANUAL",
    }
    if s.status.value in PROGRESS_STATUSES:
        body["progress"] = s.progress
    shown_fault = fault(s, caller(request).is_admin)
    if shown_fault is not None:
        body["fault"] = shown_fault
    if version >= (2, 9):
        body["locked"] = s.locked
    if version >= (2, 19):
        body["description"] = s.description
    if version >= (2, 26):
        body["tags"] = list(view.tags)
    if version >= (2, 73):
        body["locked_reason"] = s.locked_reason
    return body


def server_detail(request: web.Request, view: ServerView) -> dict[str, Any]:
    """The server as GET /servers/{id} and /servers/detail show it."""
    s = view.server
    version = microversion(request)
    admin = caller(request).is_admin
    body = server_basics(request, view)
    body.update(
        {
            "key_name": s.key_name,
            "config_drive": "True" if s.config_drive else "",
            "OS-EXT-AZ:availability_zone": s.availability_zone or "",
            "OS-EXT-STS:task_state": s.task_state.value if s.task_state else None,
            "OS-EXT-STS:vm_state": s.vm_state.value,
            "OS-EXT-STS:power_state": int(s.power_state),
            "OS-SRV-USG:launched_at": _usage_time(s.launched_at),
            "OS-SRV-USG:terminated_at": _usage_time(s.terminated_at),
            "os-extended-volumes:volumes_attached": volumes_attached(view, version),
        }
    )
    if s.security_groups:  # Nova leaves the key out when the server has none
        body["security_groups"] = [{"name": name} for name in s.security_groups]
    if admin:
        body.update(_admin_attributes(view, version))
    if version >= (2, 63):
        body["trusted_image_certificates"] = None
    if version >= (2, 71):
        body["server_groups"] = [str(s.server_group_id)] if s.server_group_id else []
    return body


def _admin_attributes(view: ServerView, version: Version) -> dict[str, Any]:
    s = view.server
    attributes: dict[str, Any] = {
        "OS-EXT-SRV-ATTR:host": s.host,
        "OS-EXT-SRV-ATTR:hypervisor_hostname": s.host,
        "OS-EXT-SRV-ATTR:instance_name": instance_name(s.id),
    }
    if version >= (2, 3):
        attributes.update(
            {
                "OS-EXT-SRV-ATTR:hostname": s.hostname or s.name,
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                "OS-EXT-SRV-ATTR:user_data": view.user_data,
            }
        )
    if version >= (2, 16):
        attributes["host_status"] = view.host_status.value
    return attributes


def instance_name(server_id: UUID) -> str:
    """The hypervisor's name of the domain (the agents name domains by instance id)."""
    return f"instance-{server_id}"


def _usage_time(value: Any) -> str | None:
    """OS-SRV-USG times are written without a zone, as Nova does."""
    return None if value is None else str(value.strftime("%Y-%m-%dT%H:%M:%S.%f"))


def server_summary(request: web.Request, view: ServerView) -> dict[str, Any]:
    """An entry of GET /servers."""
    s = view.server
    return {"id": str(s.id), "name": s.name, "links": links(request, "servers", s.id)}
