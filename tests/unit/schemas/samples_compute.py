"""Samples of the compute area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from schemas.base import Message
from schemas.instance import EventResult, InstanceAction, InstanceActionEvent
from schemas.messages import conductor_server_extras as se
from schemas.network import FixedIp

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
SERVER = UUID(int=40)


def _view() -> se.ServerView:
    from tests.unit.schemas.samples import INSTANCE

    return se.ServerView(
        server=INSTANCE,
        tags=("web",),
        ports=(
            se.ServerPort(
                port_id=UUID(int=41),
                network_id=UUID(int=42),
                network_name="private",
                mac_address="fa:16:3e:00:00:01",
                status="ACTIVE",
                fixed_ips=(FixedIp(subnet_id=UUID(int=43), ip_address="10.0.0.5"),),
            ),
        ),
        volumes=(
            se.ServerVolume(
                attachment_id=UUID(int=44),
                volume_id=UUID(int=45),
                device="/dev/vdb",
                status="attached",
                delete_on_termination=True,
            ),
        ),
        host_status=se.HostStatus.UP,
    )


ACTION = InstanceAction(
    request_id="req-1",
    instance_id=SERVER,
    action="reboot",
    start_time=NOW,
    events=(
        InstanceActionEvent(
            event="compute_reboot_instance",
            start_time=NOW,
            finish_time=NOW,
            result=EventResult.SUCCESS,
            host="compute-1",
        ),
    ),
)
EVENT = se.ExternalEvent(name="network-vif-plugged", server_uuid=SERVER, tag="port-1")


def messages() -> list[Message]:
    view = _view()
    return [
        se.FindServers(name="^web", status="ACTIVE", tags=("a",), limit=10),
        se.FindServersReply(servers=(view,), next_marker=SERVER),
        se.ShowServer(server_id=SERVER),
        se.ServerViewReply(view=view),
        se.UpdateServer(server_id=SERVER, name="web-2", description="front end"),
        se.SetServerMetadata(server_id=SERVER, metadata={"role": "web"}, replace=True),
        se.DeleteServerMetadata(server_id=SERVER, key="role"),
        se.ServerMetadataReply(metadata={"role": "web"}),
        se.SetServerTags(server_id=SERVER, tags=("a", "b")),
        se.ChangeServerTag(server_id=SERVER, tag="c", present=False),
        se.ServerTagsReply(tags=("a", "b"), changed=False),
        se.ListInstanceActions(server_id=SERVER),
        se.ListInstanceActionsReply(actions=(ACTION,)),
        se.GetInstanceAction(server_id=SERVER, request_id="req-1"),
        se.GetInstanceActionReply(action=ACTION),
        se.GetServerConsoleOutput(server_id=SERVER, length=50),
        se.ServerConsoleOutputReply(output="login:"),
        se.ServerExternalEvents(events=(EVENT,)),
        se.ServerExternalEventsReply(results=(se.ExternalEventResult(event=EVENT, code=200),)),
    ]
