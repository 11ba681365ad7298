"""Conductor RPC for the compute API's server extras: servers with what hangs off them
(tags, ports, volumes, host status), update, metadata, tags, instance actions, console
output and os-server-external-events.

`find_servers`/`show_server` answer `ServerView`s: the instance plus the rows the
compute API shows with it, read in one go so a listing costs a fixed number of queries.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.base import Message, Model
from schemas.instance import Instance, InstanceAction
from schemas.instance_state import ApiStatus
from schemas.messages.conductor_servers import ConductorRequest
from schemas.network import FixedIp
from schemas.types import HostName, IpAddress, MacAddress, Metadata, MetadataKey, Name

Tag = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[^,/]+$")]
MAX_TAGS = 50  # Nova's limit per server
ServerDescription = Annotated[str, StringConstraints(max_length=255)]


class HostStatus(StrEnum):
    """Nova's host_status (2.16): the state of the compute service the server is on."""

    UP = "UP"
    DOWN = "DOWN"
    MAINTENANCE = "MAINTENANCE"
    UNKNOWN = "UNKNOWN"
    NONE = ""


class ServerPort(Model):
    """A port bound to the server, with its network's name (for `addresses`)."""

    port_id: UUID
    network_id: UUID
    network_name: str = ""
    mac_address: MacAddress
    status: str = "DOWN"
    fixed_ips: tuple[FixedIp, ...] = ()
    floating_ips: tuple[IpAddress, ...] = ()  # associated with this port


class ServerVolume(Model):
    """A live volume attachment of the server (os-volume_attachments)."""

    attachment_id: UUID
    volume_id: UUID
    device: str | None = None
    status: str
    boot_index: int | None = None
    delete_on_termination: bool = False


class ServerView(Model):
    """An instance with what the compute API shows alongside it."""

    server: Instance
    tags: tuple[str, ...] = ()
    ports: tuple[ServerPort, ...] = ()
    volumes: tuple[ServerVolume, ...] = ()
    host_status: HostStatus = HostStatus.NONE
    user_data: str | None = None


class FindServers(ConductorRequest):
    """List servers with the compute API's filters (AND). `name` is a regular expression
    as in Nova; `host` and `project_id` are for admins; an admin sees every project when
    the context says `all_tenants`."""

    message_name = "conductor.find_servers"
    message_version = 1

    name: str | None = Field(None, max_length=255)
    status: ApiStatus | None = None
    host: HostName | None = None
    project_id: UUID | None = None
    flavor_id: UUID | None = None
    image_id: UUID | None = None
    changes_since: AwareDatetime | None = None
    tags: tuple[Tag, ...] = ()
    tags_any: tuple[Tag, ...] = ()
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000
    marker: UUID | None = None
    deleted: bool = False


class FindServersReply(Message):
    message_name = "conductor.find_servers.reply"
    message_version = 2

    servers: tuple[ServerView, ...] = ()
    next_marker: UUID | None = None


class ShowServer(ConductorRequest):
    message_name = "conductor.show_server"
    message_version = 1

    server_id: UUID


class ServerViewReply(Message):
    message_name = "conductor.server_view.reply"
    message_version = 2

    view: ServerView


class UpdateServer(ConductorRequest):
    """Rename or describe a server; `clear_description` sets the description to null."""

    message_name = "conductor.update_server"
    message_version = 1

    server_id: UUID
    name: Name | None = None
    description: ServerDescription | None = None
    clear_description: bool = False


class SetServerMetadata(ConductorRequest):
    """Merge `metadata` into the server's (or replace it all)."""

    message_name = "conductor.set_server_metadata"
    message_version = 1

    server_id: UUID
    metadata: Metadata
    replace: bool = False


class DeleteServerMetadata(ConductorRequest):
    message_name = "conductor.delete_server_metadata"
    message_version = 1

    server_id: UUID
    key: MetadataKey


class ServerMetadataReply(Message):
    message_name = "conductor.server_metadata.reply"
    message_version = 1

    metadata: Metadata


class SetServerTags(ConductorRequest):
    """Replace every tag of the server."""

    message_name = "conductor.set_server_tags"
    message_version = 1

    server_id: UUID
    tags: Annotated[tuple[Tag, ...], Field(max_length=MAX_TAGS)]


class ChangeServerTag(ConductorRequest):
    """Add (`present`) or remove one tag."""

    message_name = "conductor.change_server_tag"
    message_version = 1

    server_id: UUID
    tag: Tag
    present: bool = True


class ServerTagsReply(Message):
    message_name = "conductor.server_tags.reply"
    message_version = 1

    tags: tuple[str, ...] = ()
    changed: bool = True  # False: the tag was there already


class ListInstanceActions(ConductorRequest):
    message_name = "conductor.list_instance_actions"
    message_version = 1

    server_id: UUID


class ListInstanceActionsReply(Message):
    message_name = "conductor.list_instance_actions.reply"
    message_version = 1

    actions: tuple[InstanceAction, ...] = ()


class GetInstanceAction(ConductorRequest):
    message_name = "conductor.get_instance_action"
    message_version = 1

    server_id: UUID
    request_id: str = Field(min_length=1, max_length=64)


class GetInstanceActionReply(Message):
    message_name = "conductor.get_instance_action.reply"
    message_version = 1

    action: InstanceAction


class GetServerConsoleOutput(ConductorRequest):
    message_name = "conductor.get_server_console_output"
    message_version = 1

    server_id: UUID
    length: Annotated[int, Field(ge=1, le=10000)] | None = None


class ServerConsoleOutputReply(Message):
    message_name = "conductor.get_server_console_output.reply"
    message_version = 1

    output: str


ExternalEventName = Literal[
    "network-changed",
    "network-vif-plugged",
    "network-vif-unplugged",
    "network-vif-deleted",
    "volume-extended",
    "power-update",
    "accelerator-request-bound",
    "volume-reimaged",
]


class ExternalEvent(Model):
    """One os-server-external-events entry, as Neutron and Cinder send them."""

    name: ExternalEventName
    server_uuid: UUID
    status: Literal["failed", "completed", "in-progress"] = "completed"
    tag: str | None = Field(None, max_length=255)


class ExternalEventResult(Model):
    """The event as received, with Nova's per-event `code` (200 or 404)."""

    event: ExternalEvent
    code: Literal[200, 404]


class ServerExternalEvents(ConductorRequest):
    """For admins and the service role only."""

    message_name = "conductor.server_external_events"
    message_version = 1

    events: Annotated[tuple[ExternalEvent, ...], Field(min_length=1, max_length=1000)]


class ServerExternalEventsReply(Message):
    message_name = "conductor.server_external_events.reply"
    message_version = 1

    results: tuple[ExternalEventResult, ...]
