"""Every message round-trips through JSON; registry, routing and envelopes behave."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schemas.base import MESSAGES, message_type
from schemas.messages import all_messages
from schemas.messages.conductor_actions import Reboot, RebootType, ServerAction
from schemas.messages.conductor_hosts import ApplyPlan, HostGeneration, PlannedAllocation
from schemas.messages.conductor_servers import CreateServer, NetworkRequest
from schemas.messages.facts import (
    FACTS,
    InstancePowerStateChanged,
    PortActive,
    parse_routing_key,
)
from schemas.messages.host_facts import AgentSnapshot, HeartbeatReported
from schemas.messages.notifications import (
    EVENT_TYPES,
    InstanceNotification,
    PortNotification,
    notification_type,
    parse_notification,
)
from schemas.messages.scheduler import RequestSpec
from tests.unit.schemas.samples import CLAIM, FACT, MESSAGE_SAMPLES, NOTE, SPEC, uid


def test_every_message_has_a_sample() -> None:
    missing = set(all_messages()) - set(MESSAGE_SAMPLES)
    assert not missing, f"add samples to tests/unit/schemas/samples.py for {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(MESSAGE_SAMPLES))
def test_message_round_trips_through_json(name: str) -> None:
    sample = MESSAGE_SAMPLES[name]
    wire = json.loads(json.dumps(sample.model_dump(mode="json")))
    again = message_type(name).model_validate(wire)
    assert again == sample
    assert again.model_dump(mode="json") == wire


@pytest.mark.parametrize("name", sorted(MESSAGE_SAMPLES))
def test_message_refuses_unknown_fields(name: str) -> None:
    wire = MESSAGE_SAMPLES[name].model_dump(mode="json")
    wire["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        message_type(name).model_validate(wire)


def test_message_names_are_dotted_versions_positive() -> None:
    for name, model in all_messages().items():
        assert "." in name and name == name.lower(), name
        assert model.message_version >= 1
        assert MESSAGES[name] is model


def test_messages_are_frozen() -> None:
    sample = MESSAGE_SAMPLES["conductor.delete_server"]
    with pytest.raises(ValidationError):
        sample.force = True  # type: ignore[attr-defined]


def test_server_action_is_told_apart_by_kind() -> None:
    message = ServerAction.model_validate(
        {
            "server_id": str(uid(1)),
            "action": {"kind": "reboot", "type": "HARD"},
        }
    )
    assert message.action == Reboot(type=RebootType.HARD)
    with pytest.raises(ValidationError):
        ServerAction.model_validate(
            {
                "server_id": str(uid(1)),
                "action": {"kind": "explode"},
            }
        )
    with pytest.raises(ValidationError):  # resize needs a flavor
        ServerAction.model_validate(
            {
                "server_id": str(uid(1)),
                "action": {"kind": "resize"},
            }
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"image_id": None},  # no image and no boot volume
        {"min_count": 3, "max_count": 2},
        {"user_data": "not base64!"},
        {"networks": "some"},
        {"name": ""},
        {
            "block_device_mapping": [
                {
                    "source_type": "image",
                    "uuid": str(uid(11)),
                    "destination_type": "volume",
                    "boot_index": 0,
                }
            ]
        },
    ],
)
def test_create_server_refuses(changes: dict[str, object]) -> None:
    base = {"name": "vm", "flavor_id": uid(10), "image_id": uid(11)}
    with pytest.raises(ValidationError):
        CreateServer.model_validate({**base, **changes})


def test_create_server_boot_from_volume() -> None:
    message = CreateServer(
        name="vm",
        flavor_id=uid(10),
        block_device_mapping=(
            {
                "source_type": "image",
                "uuid": uid(11),
                "destination_type": "volume",
                "boot_index": 0,
                "volume_size": 10,
                "delete_on_termination": True,
            },
        ),
    )
    assert message.boots_from_volume
    assert message.networks == "auto"


def test_network_request_needs_one_target() -> None:
    with pytest.raises(ValidationError):
        NetworkRequest(network_id=uid(1), port_id=uid(2))
    with pytest.raises(ValidationError):
        NetworkRequest()


def test_apply_plan_needs_generations_for_every_host() -> None:
    allocation = PlannedAllocation(instance_id=uid(20), host_id=uid(50), claim=CLAIM)
    with pytest.raises(ValidationError, match="no generation"):
        ApplyPlan(plan_id=uid(1), allocations=(allocation,), host_generations=())
    with pytest.raises(ValidationError, match="placed twice"):
        ApplyPlan(
            plan_id=uid(1),
            allocations=(allocation, allocation),
            host_generations=(HostGeneration(host_id=uid(50), generation=1),),
        )


def test_request_spec_counts_and_traits() -> None:
    data = SPEC.model_dump()
    with pytest.raises(ValidationError, match="instance ids"):
        RequestSpec.model_validate({**data, "num_instances": 2})
    with pytest.raises(ValidationError, match="required and forbidden"):
        RequestSpec.model_validate(
            {**data, "required_traits": {"HW_X"}, "forbidden_traits": {"HW_X"}}
        )


def test_fact_routing_keys() -> None:
    fact = InstancePowerStateChanged(**FACT, power_state=1)
    assert fact.routing_key() == "compute.cmp1.instance.power_state"
    assert PortActive(**FACT).routing_key() == "network.cmp1.port.active"
    heartbeat = HeartbeatReported(**FACT, roles=frozenset({"storage"}))
    with pytest.raises(ValueError, match="role"):
        heartbeat.routing_key()
    assert heartbeat.routing_key("storage") == "storage.cmp1.heartbeat"
    assert parse_routing_key("compute.cmp1.example.org.instance.power_state") == (
        "compute",
        "cmp1.example.org",
        InstancePowerStateChanged,
    )
    assert parse_routing_key("compute.cmp1.agent.snapshot")[2] is AgentSnapshot
    with pytest.raises(KeyError):
        parse_routing_key("compute.cmp1.unknown")


def test_every_fact_is_registered_by_its_name() -> None:
    for name, model in FACTS.items():
        assert model.message_name == f"fact.{name}"
        assert model.fact_name() == name


def test_fact_refuses_negative_seq_and_naive_time() -> None:
    with pytest.raises(ValidationError):
        InstancePowerStateChanged(**{**FACT, "seq": -1}, power_state=1)
    with pytest.raises(ValidationError):
        InstancePowerStateChanged(**{**FACT, "observed_at": "2025-01-01T00:00:00"}, power_state=1)
    with pytest.raises(ValidationError):
        InstancePowerStateChanged(**FACT, power_state=2)  # not a Nova power state


def test_event_types_cover_the_instance_actions() -> None:
    for action in (
        "create",
        "delete",
        "reboot",
        "power_off",
        "resize_confirm",
        "volume_attach",
        "interface_detach",
    ):
        for phase in ("start", "end", "error"):
            assert f"instance.{action}.{phase}" in EVENT_TYPES
    assert {"port.create.end", "volume.attach.end", "volume.delete.error"} <= EVENT_TYPES


def test_notification_parse_by_event_type() -> None:
    sample = MESSAGE_SAMPLES["notification.instance"]
    parsed = parse_notification(sample.model_dump(mode="json"))
    assert isinstance(parsed, InstanceNotification) and parsed == sample
    assert notification_type("port.update.start") is PortNotification
    with pytest.raises(KeyError):
        notification_type("instance.explode.end")


def test_notification_refuses_bad_event_types() -> None:
    data = MESSAGE_SAMPLES["notification.instance"].model_dump()
    with pytest.raises(ValidationError, match="unknown event_type"):
        InstanceNotification.model_validate({**data, "event_type": "instance.fly.end"})
    with pytest.raises(ValidationError, match="not a instance event"):
        InstanceNotification.model_validate({**data, "event_type": "port.create.end"})
    with pytest.raises(ValidationError, match="ERROR"):
        InstanceNotification.model_validate({**data, "event_type": "instance.create.error"})
    unsequenced = InstanceNotification.model_validate({**data, "sequence": None})
    assert unsequenced.sequence is None
    assert NOTE["sequence"] == 5


def test_instance_payload_uses_nova_power_state_names() -> None:
    payload = MESSAGE_SAMPLES["notification.instance"].payload  # type: ignore[attr-defined]
    assert payload.power_state == "pending"
    assert payload.state == "building" and payload.task_state == "scheduling"
    assert payload.tenant_id == uid(2)
