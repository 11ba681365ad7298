"""Server actions through the gateway (POST /servers/{id}/action) with the statuses they
lead to, Nova's 409s, console output and the instance actions they leave behind."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_servers import (
    SERVERS,
    V279,
    create_active,
    seeded,
    wait_status,
)


async def act(cloud: Cloud, server_id: str, body: dict[str, Any], **kw: Any) -> Any:
    who = kw.pop("who", cloud.demo)
    return await cloud.request("POST", f"{SERVERS}/{server_id}/action", who, json=body, **kw)


async def test_power_actions_reach_their_statuses(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "power")
    steps: list[tuple[dict[str, Any], str]] = [
        ({"reboot": {"type": "HARD"}}, "ACTIVE"),
        ({"os-stop": None}, "SHUTOFF"),
        ({"os-start": None}, "ACTIVE"),
        ({"pause": None}, "PAUSED"),
        ({"unpause": None}, "ACTIVE"),
        ({"suspend": None}, "SUSPENDED"),
        ({"resume": None}, "ACTIVE"),
        ({"reboot": {"type": "SOFT"}}, "ACTIVE"),
    ]
    for body, status in steps:
        answer = await act(cloud, server_id, body)
        assert answer.status == 202, (body, answer)
        server = await cloud.wait_for(
            f"{SERVERS}/{server_id}",
            cloud.demo,
            "server",
            lambda s, status=status: s["status"] == status and s["OS-EXT-STS:task_state"] is None,
        )
        assert server["status"] == status


async def test_a_wrong_state_is_409_in_novas_words(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "conflict")
    answer = await act(cloud, server_id, {"os-start": None})
    assert answer.status == 409, answer
    message = answer.body["conflictingRequest"]["message"]
    assert message == f"Cannot 'start' instance {server_id} while it is in vm_state active"
    unknown = await act(cloud, server_id, {"fly": None})
    assert unknown.status == 400, unknown
    bad_reboot = await act(cloud, server_id, {"reboot": {"type": "GENTLE"}})
    assert bad_reboot.status == 400, bad_reboot


async def test_resize_confirm_and_migrate(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    server_id = await create_active(cloud, cloud.demo, "mover")
    resize = await act(cloud, server_id, {"resize": {"flavorRef": ids["small"]}})
    assert resize.status == 202, resize
    await wait_status(cloud, cloud.demo, server_id, "VERIFY_RESIZE")
    confirm = await act(cloud, server_id, {"confirmResize": None})
    assert confirm.status == 204, confirm
    server = await wait_status(cloud, cloud.demo, server_id, "ACTIVE")
    assert server["flavor"]["id"] == ids["small"]
    migrate = await act(cloud, server_id, {"migrate": None}, who=cloud.admin)
    assert migrate.status == 202, migrate
    await wait_status(cloud, cloud.admin, server_id, "VERIFY_RESIZE")
    revert = await act(cloud, server_id, {"revertResize": None}, who=cloud.admin)
    assert revert.status == 202, revert
    await wait_status(cloud, cloud.admin, server_id, "ACTIVE")


async def test_rebuild_answers_with_the_server(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    server_id = await create_active(cloud, cloud.demo, "rebuilt")
    body = {"rebuild": {"imageRef": ids["image"], "name": "rebuilt-2"}}
    answer = await act(cloud, server_id, body, headers=V279)
    assert answer.status == 202, answer
    assert answer.body["server"]["id"] == server_id
    assert "adminPass" in answer.body["server"]
    assert "OS-EXT-STS:vm_state" in answer.body["server"]  # shown like show from 2.75
    server = await wait_status(cloud, cloud.demo, server_id, "ACTIVE")
    assert server["name"] == "rebuilt-2"


async def test_lock_makes_a_members_action_409(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "locked")
    lock = await act(cloud, server_id, {"lock": {"locked_reason": "audit"}}, headers=V279)
    assert lock.status == 202, lock
    shown = await cloud.request("GET", f"{SERVERS}/{server_id}", cloud.demo, headers=V279)
    assert shown.body["server"]["locked"] is True
    assert shown.body["server"]["locked_reason"] == "audit"
    refused = await act(cloud, server_id, {"os-stop": None})
    assert refused.status == 409, refused
    assert refused.body["conflictingRequest"]["message"] == f"Instance {server_id} is locked"
    delete = await cloud.request("DELETE", f"{SERVERS}/{server_id}", cloud.demo)
    assert delete.status == 409, delete
    by_admin = await act(cloud, server_id, {"os-stop": None}, who=cloud.admin)
    assert by_admin.status == 202, by_admin
    assert (await act(cloud, server_id, {"unlock": None})).status == 202


async def test_console_output_and_instance_actions(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "console")
    assert (await act(cloud, server_id, {"reboot": {"type": "SOFT"}})).status == 202
    await cloud.wait_for(
        f"{SERVERS}/{server_id}", cloud.demo, "server", lambda s: s["status"] == "ACTIVE"
    )
    console = await act(cloud, server_id, {"os-getConsoleOutput": {"length": 50}})
    assert console.status == 200, console
    assert isinstance(console.body["output"], str)
    actions = await cloud.request("GET", f"{SERVERS}/{server_id}/os-instance-actions", cloud.demo)
    assert actions.status == 200, actions
    names = [a["action"] for a in actions.body["instanceActions"]]
    assert names[-1] == "create" and "reboot" in names
    create = actions.body["instanceActions"][-1]
    one = await cloud.request(
        "GET",
        f"{SERVERS}/{server_id}/os-instance-actions/{create['request_id']}",
        cloud.demo,
        headers=V279,
    )
    assert one.status == 200, one
    events = one.body["instanceAction"]["events"]
    assert [e["event"] for e in events][:1] == ["conductor_schedule_and_build_instances"]
    assert all(e["result"] in ("Success", "Error", None) for e in events)
    missing = await cloud.request(
        "GET", f"{SERVERS}/{server_id}/os-instance-actions/req-nope", cloud.demo
    )
    assert missing.status == 404, missing
