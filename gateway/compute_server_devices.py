"""A server's devices and addresses: `os-volume_attachments`, `os-interface` and `ips`,
as Nova serves them (attach answers 200 with the attachment, detach 202)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.compute_server_view import PREFIX, addresses
from gateway.compute_servers import fetch_view, locked_conflict
from gateway.errors import bad_request, not_found
from gateway.http import body, call, describe, json, no_content, uuid_arg, wrapped
from gateway.microversion import Version, microversion
from gateway.routing import Routes
from schemas.errors import SkymeshError
from schemas.messages.common import Accepted
from schemas.messages.conductor_server_extras import ServerPort, ServerVolume
from schemas.messages.conductor_servers import (
    AttachInterface,
    AttachInterfaceReply,
    AttachVolume,
    AttachVolumeReply,
    DetachInterface,
    DetachVolume,
)

routes = Routes("compute", PREFIX)


class VolumeAttachmentBody(BaseModel):
    """`{"volumeAttachment": {"volumeId", "device", "tag", "delete_on_termination"}}`."""

    model_config = ConfigDict(extra="forbid")
    volumeId: UUID
    device: str | None = None
    tag: str | None = Field(None, max_length=60)
    delete_on_termination: bool = False


class FixedIpRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ip_address: str


class InterfaceAttachmentBody(BaseModel):
    """`{"interfaceAttachment": {"net_id" | "port_id", "fixed_ips", "tag"}}`."""

    model_config = ConfigDict(extra="forbid")
    net_id: UUID | None = None
    port_id: UUID | None = None
    fixed_ips: list[FixedIpRef] = Field(default_factory=list)
    tag: str | None = Field(None, max_length=60)


def _parsed(model: type[BaseModel], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(f"Invalid input for field/attribute {what}. {describe(exc)}") from None


async def _call_device(
    request: web.Request, server_id: UUID, method: str, message: Any, reply: Any
) -> Any:
    try:
        return await call(request, method, message, reply)
    except SkymeshError as exc:
        raise (locked_conflict(exc, server_id) or exc) from None


# -- volume attachments ---------------------------------------------------------------


def volume_attachment(
    server_id: UUID, volume: ServerVolume, version: Version, tag: str | None = None
) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": str(volume.volume_id),
        "serverId": str(server_id),
        "volumeId": str(volume.volume_id),
        "device": volume.device,
    }
    if version >= (2, 70):
        shown["tag"] = tag
    if version >= (2, 79):
        shown["delete_on_termination"] = volume.delete_on_termination
    return shown


@routes.get("/servers/{server_id}/os-volume_attachments", summary="List a server's volumes")
async def list_volume_attachments(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    view = await fetch_view(request, server_id)
    version = microversion(request)
    shown = [volume_attachment(server_id, v, version) for v in view.volumes]
    return json({"volumeAttachments": shown})


@routes.get(
    "/servers/{server_id}/os-volume_attachments/{volume_id}", summary="Show a volume attachment"
)
async def show_volume_attachment(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    volume_id = uuid_arg(request, "volume_id", "volume")
    view = await fetch_view(request, server_id)
    for volume in view.volumes:
        if volume.volume_id == volume_id:
            shown = volume_attachment(server_id, volume, microversion(request))
            return json({"volumeAttachment": shown})
    raise not_found(f"volume_id not found: {volume_id}")


@routes.post(
    "/servers/{server_id}/os-volume_attachments",
    summary="Attach a volume to a server",
    body=VolumeAttachmentBody,
    status=200,
)
async def attach_volume(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    given = _parsed(
        VolumeAttachmentBody, wrapped(await body(request), "volumeAttachment"), "volumeAttachment"
    )
    version = microversion(request)
    if given.delete_on_termination and version < (2, 79):
        raise bad_request("delete_on_termination needs microversion 2.79 or later")
    try:
        message = AttachVolume(
            server_id=server_id,
            volume_id=given.volumeId,
            device=given.device,
            tag=given.tag,
            delete_on_termination=given.delete_on_termination,
        )
    except ValidationError as exc:
        raise bad_request(
            f"Invalid input for field/attribute volumeAttachment. {describe(exc)}"
        ) from None
    reply = await _call_device(request, server_id, "attach_volume", message, AttachVolumeReply)
    attached = ServerVolume(
        attachment_id=reply.attachment.id,
        volume_id=reply.attachment.volume_id,
        device=reply.attachment.device,
        status=reply.attachment.status.value,
        delete_on_termination=given.delete_on_termination,
    )
    return json({"volumeAttachment": volume_attachment(server_id, attached, version, given.tag)})


@routes.delete(
    "/servers/{server_id}/os-volume_attachments/{volume_id}",
    summary="Detach a volume from a server",
    status=202,
)
async def detach_volume(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    volume_id = uuid_arg(request, "volume_id", "volume")
    message = DetachVolume(server_id=server_id, volume_id=volume_id)
    await _call_device(request, server_id, "detach_volume", message, Accepted)
    return no_content(202)


# -- interfaces -----------------------------------------------------------------------


def interface_attachment(port: ServerPort, version: Version) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "port_id": str(port.port_id),
        "net_id": str(port.network_id),
        "mac_addr": port.mac_address,
        "port_state": port.status,
        "fixed_ips": [
            {"subnet_id": str(f.subnet_id), "ip_address": f.ip_address} for f in port.fixed_ips
        ],
    }
    if version >= (2, 70):
        shown["tag"] = None
    return shown


@routes.get("/servers/{server_id}/os-interface", summary="List a server's interfaces")
async def list_interfaces(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    version = microversion(request)
    return json({"interfaceAttachments": [interface_attachment(p, version) for p in view.ports]})


@routes.get("/servers/{server_id}/os-interface/{port_id}", summary="Show a server's interface")
async def show_interface(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    port_id = uuid_arg(request, "port_id", "port")
    for port in view.ports:
        if port.port_id == port_id:
            shown = interface_attachment(port, microversion(request))
            return json({"interfaceAttachment": shown})
    raise not_found(f"Port {port_id} is not attached")


@routes.post(
    "/servers/{server_id}/os-interface",
    summary="Attach an interface (a new port on a network, or a port)",
    body=InterfaceAttachmentBody,
    status=200,
)
async def attach_interface(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    given = _parsed(
        InterfaceAttachmentBody,
        wrapped(await body(request), "interfaceAttachment"),
        "interfaceAttachment",
    )
    if given.net_id is None and given.port_id is None:
        raise bad_request("Invalid input: give net_id or port_id")
    try:
        message = AttachInterface(
            server_id=server_id,
            network_id=given.net_id if given.port_id is None else None,
            port_id=given.port_id,
            fixed_ips=tuple(f.ip_address for f in given.fixed_ips),
            tag=given.tag,
        )
    except ValidationError as exc:
        raise bad_request(
            f"Invalid input for field/attribute interfaceAttachment. {describe(exc)}"
        ) from None
    reply = await _call_device(
        request, server_id, "attach_interface", message, AttachInterfaceReply
    )
    port = ServerPort(
        port_id=reply.port.id,
        network_id=reply.port.network_id,
        mac_address=reply.port.mac_address,
        status=reply.port.status.value,
        fixed_ips=reply.port.fixed_ips,
    )
    shown = interface_attachment(port, microversion(request))
    if microversion(request) >= (2, 70):
        shown["tag"] = given.tag
    return json({"interfaceAttachment": shown})


@routes.delete(
    "/servers/{server_id}/os-interface/{port_id}", summary="Detach an interface", status=202
)
async def detach_interface(request: web.Request) -> web.Response:
    server_id = uuid_arg(request, "server_id", "Instance")
    port_id = uuid_arg(request, "port_id", "port")
    message = DetachInterface(server_id=server_id, port_id=port_id)
    await _call_device(request, server_id, "detach_interface", message, Accepted)
    return no_content(202)


# -- ips ------------------------------------------------------------------------------


def _plain(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {
        net: [{"version": a["version"], "addr": a["addr"]} for a in entries]
        for net, entries in found.items()
    }


@routes.get("/servers/{server_id}/ips", summary="List a server's addresses by network")
async def list_ips(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    return json({"addresses": _plain(addresses(view.ports))})


@routes.get("/servers/{server_id}/ips/{network}", summary="A server's addresses on a network")
async def show_ips(request: web.Request) -> web.Response:
    view = await fetch_view(request, uuid_arg(request, "server_id", "Instance"))
    network = request.match_info["network"]
    found = _plain(addresses(view.ports))
    if network not in found:
        raise not_found("Instance is not a member of specified network")
    return json({network: found[network]})
