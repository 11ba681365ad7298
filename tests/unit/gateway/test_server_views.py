"""Compute servers in the gateway without services: the server JSON per microversion and
per role, and the create and action bodies' parsing and refusals."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import UUID

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from corebus.config import GatewaySettings
from corebus.memory import InMemoryBus
from gateway.app import build_app
from gateway.compute_server_actions import PARSERS, _action
from gateway.compute_server_create import create_message
from gateway.compute_server_view import addresses, host_id, server_detail
from gateway.context import Caller
from gateway.errors import HttpError
from gateway.http import CALLER_KEY
from gateway.microversion import MICROVERSION_KEY
from schemas.compute import Flavor
from schemas.instance import Instance, InstanceFault
from schemas.instance_state import TaskState, VmState
from schemas.messages import conductor_actions as a
from schemas.messages.conductor_identity import NamedRef, TokenInfo
from schemas.messages.conductor_server_extras import ServerPort, ServerView
from schemas.network import FixedIp

BASE = "http://gw.example:8780"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
FLAVOR = Flavor(id=UUID(int=9), name="m1.tiny", vcpus=1, memory_mb=512, disk_gb=1)


def request(version: tuple[int, int] = (2, 1), role: str = "member") -> web.Request:
    app = build_app(GatewaySettings(), InMemoryBus(), BASE)
    req = make_mocked_request("GET", "/compute/v2.1/servers/x", app=app)
    info = TokenInfo(
        user=NamedRef(id=UUID(int=1), name="u"),
        project=NamedRef(id=UUID(int=2), name="p"),
        roles=(NamedRef(id=UUID(int=3), name=role),),
        issued_at=NOW,
        expires_at=NOW,
        audit_ids=("a",),
    )
    req[CALLER_KEY] = Caller(token="t" * 20, info=info, request_id="req-1")
    req[MICROVERSION_KEY] = version
    return req


def view(**changes: object) -> ServerView:
    fields: dict[str, object] = {
        "id": UUID(int=5),
        "name": "web",
        "project_id": UUID(int=2),
        "user_id": UUID(int=1),
        "flavor": FLAVOR,
        "host": "compute-1",
        "vm_state": VmState.ACTIVE,
        "task_state": None,
        "created_at": NOW,
    }
    server = Instance.model_validate({**fields, **changes})
    port = ServerPort(
        port_id=UUID(int=6),
        network_id=UUID(int=7),
        network_name="private",
        mac_address="fa:16:3e:00:00:01",
        fixed_ips=(FixedIp(subnet_id=UUID(int=8), ip_address="10.0.0.5"),),
    )
    return ServerView(server=server, ports=(port,), tags=("a",))


def test_flavor_is_a_link_before_2_47_and_a_dict_after() -> None:
    old = server_detail(request((2, 46)), view())
    assert set(old["flavor"]) == {"id", "links"}
    new = server_detail(request((2, 47)), view())
    assert new["flavor"]["original_name"] == "m1.tiny" and new["flavor"]["ram"] == 512


def test_fields_appear_with_their_microversions() -> None:
    assert not {"locked", "description", "tags", "locked_reason"} & set(
        server_detail(request((2, 8)), view())
    )
    shown = server_detail(request((2, 79)), view())
    assert shown["locked"] is False and shown["tags"] == ["a"]
    assert "description" in shown and "locked_reason" in shown


def test_admin_only_attributes() -> None:
    member = server_detail(request((2, 79)), view())
    assert not any(k.startswith("OS-EXT-SRV-ATTR") for k in member) and "host_status" not in member
    admin = server_detail(request((2, 79), role="admin"), view())
    assert admin["OS-EXT-SRV-ATTR:host"] == "compute-1"
    assert admin["host_status"] == ""


def test_image_is_empty_string_when_booted_from_volume_and_host_id_is_novas() -> None:
    shown = server_detail(request(), view())
    assert shown["image"] == ""
    expected = hashlib.sha224((UUID(int=2).hex + "compute-1").encode()).hexdigest()
    assert shown["hostId"] == expected == host_id(UUID(int=2), "compute-1")
    assert host_id(UUID(int=2), None) == ""


def test_addresses_group_by_network_name() -> None:
    found = addresses(view().ports)
    assert found == {
        "private": [
            {
                "addr": "10.0.0.5",
                "version": 4,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01",
            }
        ]
    }


def test_fault_only_in_error_and_details_only_for_admins() -> None:
    fault = InstanceFault(code=500, message="No valid host", details="trace", created_at=NOW)
    failed = view(vm_state=VmState.ERROR, fault=fault)
    member = server_detail(request(), failed)
    assert member["fault"] == {
        "code": 500,
        "message": "No valid host",
        "created": "2025-01-02T03:04:05Z",
    }
    assert server_detail(request(role="admin"), failed)["fault"]["details"] == "trace"
    assert "fault" not in server_detail(request(), view(fault=fault))


def test_status_follows_the_task_state() -> None:
    rebooting = server_detail(request(), view(task_state=TaskState.REBOOTING_HARD))
    assert rebooting["status"] == "HARD_REBOOT"
    assert "progress" not in server_detail(request(), view(vm_state=VmState.STOPPED))


def test_create_body_maps_networks_mappings_and_hints() -> None:
    message, given = create_message(
        {
            "server": {
                "name": "bfv",
                "flavorRef": f"{BASE}/compute/v2.1/flavors/{UUID(int=9)}",
                "imageRef": "",
                "networks": [{"uuid": str(UUID(int=7)), "fixed_ip": "10.0.0.9"}],
                "block_device_mapping_v2": [
                    {
                        "uuid": str(UUID(int=10)),
                        "source_type": "image",
                        "destination_type": "volume",
                        "boot_index": 0,
                        "volume_size": 1,
                        "delete_on_termination": True,
                    }
                ],
                "min_count": 2,
            },
            "os:scheduler_hints": {"group": str(UUID(int=11))},
        }
    )
    assert message.flavor_id == UUID(int=9) and message.image_id is None
    assert message.boots_from_volume
    assert not isinstance(message.networks, str)
    assert message.networks[0].fixed_ip == "10.0.0.9"
    assert message.server_group_id == UUID(int=11)
    assert message.min_count == message.max_count == 2
    assert given.return_reservation_id is False


@pytest.mark.parametrize(
    "server",
    [
        {"name": "x", "flavorRef": "not-a-uuid", "imageRef": str(UUID(int=1))},
        {"flavorRef": str(UUID(int=9)), "imageRef": str(UUID(int=1))},
        {"name": " ", "flavorRef": str(UUID(int=9)), "imageRef": str(UUID(int=1))},
        {"name": "x", "flavorRef": str(UUID(int=9)), "imageRef": str(UUID(int=1)), "min_count": 0},
        {"name": "x", "flavorRef": str(UUID(int=9))},  # no image and no boot volume
        {"name": "x", "flavorRef": str(UUID(int=9)), "imageRef": "1", "networks": "some"},
    ],
)
def test_bad_create_bodies_are_400(server: dict[str, object]) -> None:
    with pytest.raises(HttpError) as caught:
        create_message({"server": server})
    assert caught.value.status == 400


def test_action_bodies() -> None:
    assert _action({"os-stop": None}) == ("os-stop", None)
    bodies: list[dict[str, object]] = [{}, {"os-stop": None, "os-start": None}, {"fly": {}}]
    for bad in bodies:
        with pytest.raises(HttpError):
            _action(bad)
    reboot = PARSERS["reboot"]({"type": "hard"}, request())
    assert reboot == a.Reboot(type=a.RebootType.HARD)
    with pytest.raises(HttpError):
        PARSERS["migrate"]({"host": "compute-2"}, request((2, 56)))  # a member may not pick
    assert PARSERS["migrate"]({"host": "compute-2"}, request((2, 56), "admin")).host == "compute-2"
