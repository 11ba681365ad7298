"""Servers join their server group (the scheduler hint `group`): anti-affinity spreads
them over hosts, and two creates racing for the last host of an anti-affinity group
end with one ACTIVE and one ERROR with a NoValidHost fault, never both on one host."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.functional.gateway.cloud import COMPUTES, Account, Cloud
from tests.functional.gateway.test_server_boot_ports import boot
from tests.functional.gateway.test_servers import SERVERS, wait_status

GROUPS = "/compute/v2.1/os-server-groups"


async def make_group(cloud: Cloud, who: Account, policy: str) -> str:
    body = {"server_group": {"name": f"g-{policy}", "policies": [policy]}}
    answer = await cloud.request("POST", GROUPS, who, json=body)
    assert answer.status == 200, answer
    group_id: str = answer.body["server_group"]["id"]
    return group_id


async def boot_in(cloud: Cloud, who: Account, name: str, group_id: str) -> str:
    answer = await boot(cloud, who, name, "none", **{"os:scheduler_hints": {"group": group_id}})
    assert answer.status == 202, answer
    server_id: str = answer.body["server"]["id"]
    return server_id


async def settled(cloud: Cloud, who: Account, server_id: str) -> dict[str, Any]:
    return await cloud.wait_for(
        f"{SERVERS}/{server_id}", who, "server", lambda s: s["status"] in ("ACTIVE", "ERROR")
    )


async def test_anti_affinity_spreads_servers_over_hosts(cloud: Cloud) -> None:
    account = await cloud.new_account()
    group_id = await make_group(cloud, account, "anti-affinity")
    first = await boot_in(cloud, account, "spread-1", group_id)
    await wait_status(cloud, account, first, "ACTIVE")
    second = await boot_in(cloud, account, "spread-2", group_id)
    servers = [await wait_status(cloud, account, s, "ACTIVE") for s in (first, second)]
    assert servers[0]["hostId"] != servers[1]["hostId"]
    group = await cloud.request("GET", f"{GROUPS}/{group_id}", account)
    assert sorted(group.body["server_group"]["members"]) == sorted([first, second])


async def test_two_creates_racing_for_one_host_give_one_active_one_error(cloud: Cloud) -> None:
    account = await cloud.new_account()
    group_id = await make_group(cloud, account, "anti-affinity")
    others = list(COMPUTES[1:])
    async with cloud.pool.acquire() as conn:  # a cloud of one compute host
        await conn.execute(
            "UPDATE hosts SET enabled = false, disabled_reason = 'test' WHERE name = ANY($1)",
            others,
        )
    try:
        racing = await asyncio.gather(
            boot_in(cloud, account, "race-1", group_id),
            boot_in(cloud, account, "race-2", group_id),
        )
        servers = [await settled(cloud, account, s) for s in racing]
    finally:
        async with cloud.pool.acquire() as conn:
            await conn.execute(
                "UPDATE hosts SET enabled = true, disabled_reason = NULL WHERE name = ANY($1)",
                others,
            )
    assert sorted(s["status"] for s in servers) == ["ACTIVE", "ERROR"]
    (failed,) = [s for s in servers if s["status"] == "ERROR"]
    assert failed["fault"]["message"].startswith("No valid host")
    message = failed["fault"]["message"]  # the scheduler's filter, or the plan apply's check
    assert "server_group_anti_affinity" in message or "(anti-affinity" in message
