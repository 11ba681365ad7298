"""The body of POST /servers (Nova's server create) as a `CreateServer` message.

Nova answers 400 for everything wrong in it, including a flavor or image that does not
exist ("Flavor X could not be found."), so the conductor's NotFound for those becomes a
400 in `create_error`.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import HttpError, bad_request
from gateway.http import describe
from schemas.block_device import BlockDeviceMapping
from schemas.errors import NotFound, QuotaExceeded, SkymeshError
from schemas.messages.conductor_servers import CreateServer, NetworkRequest


class NetworkEntry(BaseModel):
    """One entry of `networks`: a network, a port, optionally a fixed IP and a tag."""

    model_config = ConfigDict(extra="forbid")
    uuid: UUID | None = None
    port: UUID | None = None
    fixed_ip: str | None = None
    tag: str | None = None


class SecurityGroupRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=255)


class ServerCreate(BaseModel):
    """`{"server": {...}}` of POST /servers (the fields skymesh honours; Nova's others,
    such as accessIPv4 or OS-DCF:diskConfig, are accepted and ignored)."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=255)
    imageRef: str | None = None
    flavorRef: str
    networks: list[NetworkEntry] | Literal["auto", "none"] | None = None
    block_device_mapping_v2: list[dict[str, Any]] = Field(default_factory=list)
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    metadata: dict[str, str] = Field(default_factory=dict)
    key_name: str | None = None
    user_data: str | None = None
    security_groups: list[SecurityGroupRef] = Field(default_factory=list)
    config_drive: bool = False
    description: str | None = Field(None, max_length=255)
    min_count: int = Field(1, ge=1)
    max_count: int | None = Field(None, ge=1)
    return_reservation_id: bool = False

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value


def ref_id(raw: str, what: str) -> UUID:
    """A flavorRef/imageRef: a UUID or a link ending in one."""
    try:
        return UUID(raw.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        raise bad_request(f"Invalid {what} provided.") from None


def _networks(given: Any) -> Any:
    if given is None or isinstance(given, str):
        return given or "auto"
    return tuple(
        NetworkRequest(
            network_id=entry.uuid if entry.port is None else None,
            port_id=entry.port,
            fixed_ip=entry.fixed_ip,
            tag=entry.tag,
        )
        for entry in given
    )


def create_message(data: dict[str, Any]) -> tuple[CreateServer, ServerCreate]:
    """The conductor message for Nova's create body; 400 for anything invalid."""
    try:
        server = ServerCreate.model_validate(data.get("server"))
    except ValidationError as exc:
        raise bad_request(f"Invalid input for field/attribute server. {describe(exc)}") from None
    hints = data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints") or {}
    if not isinstance(hints, dict):
        raise bad_request("os:scheduler_hints must be an object")
    try:
        mappings = tuple(
            BlockDeviceMapping.model_validate(b) for b in server.block_device_mapping_v2
        )
        message = CreateServer(
            name=server.name,
            flavor_id=ref_id(server.flavorRef, "flavorRef"),
            image_id=ref_id(server.imageRef, "imageRef") if server.imageRef else None,
            networks=_networks(server.networks),
            block_device_mapping=mappings,
            availability_zone=server.availability_zone,
            server_group_id=_group(hints.get("group")),
            metadata=server.metadata,
            key_name=server.key_name,
            user_data=server.user_data,
            security_groups=tuple(g.name for g in server.security_groups) or ("default",),
            config_drive=server.config_drive,
            description=server.description,
            min_count=server.min_count,
            max_count=server.max_count or server.min_count,
        )
    except ValidationError as exc:
        raise bad_request(f"Invalid input for field/attribute server. {describe(exc)}") from None
    return message, server


def _group(raw: Any) -> UUID | None:
    if raw is None:
        return None
    try:
        return UUID(str(raw))
    except ValueError:
        raise bad_request(f"Invalid server group {raw!r} in os:scheduler_hints") from None


def create_error(exc: SkymeshError, message: CreateServer) -> HttpError | None:
    """Nova's answer for a conductor error of create (None: the default mapping)."""
    if isinstance(exc, NotFound):
        if "flavor_id" in exc.details:
            return bad_request(f"Flavor {message.flavor_id} could not be found.")
        return bad_request(f"Image {message.image_id} could not be found.")
    if isinstance(exc, QuotaExceeded):
        detail = exc.message.removeprefix("quota exceeded for ")
        return HttpError(403, f"Quota exceeded for {detail}")
    return None
