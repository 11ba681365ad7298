"""What hangs off a server, through the gateway: metadata, tags, volume attachments,
interfaces, addresses and os-server-external-events."""

from __future__ import annotations

from conductor.db.queries import networks
from corebus.client import Client
from corebus.envelope import RequestContext
from schemas.messages.conductor_volumes import (
    CreateVolume,
    CreateVolumeReply,
    GetVolume,
    GetVolumeReply,
)
from tests.functional.gateway.cloud import Account, Cloud
from tests.functional.gateway.test_servers import SERVERS, V279, create_active

V226 = {"OpenStack-API-Version": "compute 2.26"}


async def new_volume(cloud: Cloud, who: Account) -> str:
    """A 1 GB volume of `who`'s project, available (made through the conductor)."""
    ctx = RequestContext(
        user_id=who.user_id, project_id=who.project_id, roles=(who.role,), is_admin=False
    )
    client = Client(cloud.bus)
    reply = await client.call(
        "conductor.create_volume",
        CreateVolume(size_gb=1, name="data"),
        CreateVolumeReply,
        context=ctx,
    )
    volume_id = reply.volume.id
    for _ in range(200):
        got = await client.call(
            "conductor.get_volume", GetVolume(volume_id=volume_id), GetVolumeReply, context=ctx
        )
        if got.volume.status == "available":
            return str(volume_id)
        await cloud_sleep()
    raise AssertionError(f"volume {volume_id} never became available")


async def cloud_sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_metadata(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "meta", metadata={"a": "1"})
    base = f"{SERVERS}/{server_id}/metadata"
    merged = await cloud.request("POST", base, cloud.demo, json={"metadata": {"b": "2"}})
    assert merged.status == 200, merged
    assert merged.body == {"metadata": {"a": "1", "b": "2"}}
    replaced = await cloud.request("PUT", base, cloud.demo, json={"metadata": {"c": "3"}})
    assert replaced.body == {"metadata": {"c": "3"}}
    item = await cloud.request("PUT", f"{base}/d", cloud.demo, json={"meta": {"d": "4"}})
    assert item.status == 200 and item.body == {"meta": {"d": "4"}}, item
    mismatch = await cloud.request("PUT", f"{base}/e", cloud.demo, json={"meta": {"d": "4"}})
    assert mismatch.status == 400, mismatch
    shown = await cloud.request("GET", f"{base}/d", cloud.demo)
    assert shown.body == {"meta": {"d": "4"}}
    assert (await cloud.request("DELETE", f"{base}/d", cloud.demo)).status == 204
    assert (await cloud.request("GET", f"{base}/d", cloud.demo)).status == 404
    assert (await cloud.request("DELETE", f"{base}/d", cloud.demo)).status == 404
    listed = await cloud.request("GET", base, cloud.demo)
    assert listed.body == {"metadata": {"c": "3"}}


async def test_tags(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "tagged")
    base = f"{SERVERS}/{server_id}/tags"
    assert (await cloud.request("GET", base, cloud.demo)).status == 404  # before 2.26
    put = await cloud.request("PUT", base, cloud.demo, json={"tags": ["b", "a"]}, headers=V226)
    assert put.status == 200 and put.body == {"tags": ["a", "b"]}, put
    added = await cloud.request("PUT", f"{base}/c", cloud.demo, headers=V226)
    assert added.status == 201, added
    again = await cloud.request("PUT", f"{base}/c", cloud.demo, headers=V226)
    assert again.status == 204, again
    assert (await cloud.request("GET", f"{base}/c", cloud.demo, headers=V226)).status == 204
    assert (await cloud.request("DELETE", f"{base}/a", cloud.demo, headers=V226)).status == 204
    assert (await cloud.request("GET", f"{base}/a", cloud.demo, headers=V226)).status == 404
    found = await cloud.request("GET", f"{SERVERS}?tags=b,c", cloud.demo, headers=V226)
    assert [s["id"] for s in found.body["servers"]] == [server_id]
    none = await cloud.request("GET", f"{SERVERS}?tags=a", cloud.demo, headers=V226)
    assert none.body["servers"] == []
    assert (await cloud.request("DELETE", base, cloud.demo, headers=V226)).status == 204
    listed = await cloud.request("GET", base, cloud.demo, headers=V226)
    assert listed.body == {"tags": []}
    bad = await cloud.request("PUT", f"{base}", cloud.demo, json={"tags": ["x,y"]}, headers=V226)
    assert bad.status == 400, bad


async def test_volume_attach_and_detach(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "with-volume")
    volume_id = await new_volume(cloud, cloud.demo)
    base = f"{SERVERS}/{server_id}/os-volume_attachments"
    body = {"volumeAttachment": {"volumeId": volume_id, "delete_on_termination": True}}
    attach = await cloud.request("POST", base, cloud.demo, json=body, headers=V279)
    assert attach.status == 200, attach
    assert attach.body["volumeAttachment"]["volumeId"] == volume_id
    assert attach.body["volumeAttachment"]["delete_on_termination"] is True
    listed = await cloud.request("GET", base, cloud.demo, headers=V279)
    assert [a["volumeId"] for a in listed.body["volumeAttachments"]] == [volume_id]
    one = await cloud.request("GET", f"{base}/{volume_id}", cloud.demo)
    assert one.status == 200 and one.body["volumeAttachment"]["serverId"] == server_id, one
    server = await cloud.request("GET", f"{SERVERS}/{server_id}", cloud.demo, headers=V279)
    assert server.body["server"]["os-extended-volumes:volumes_attached"] == [
        {"id": volume_id, "delete_on_termination": True}
    ]
    await cloud.wait_for(
        base, cloud.demo, "volumeAttachments", lambda a: a and a[0]["device"] is not None
    )
    await cloud.wait_for(
        f"{SERVERS}/{server_id}", cloud.demo, "server", lambda s: s["OS-EXT-STS:task_state"] is None
    )
    detach = await cloud.request("DELETE", f"{base}/{volume_id}", cloud.demo)
    assert detach.status == 202, detach
    await cloud.wait_for(base, cloud.demo, "volumeAttachments", lambda a: a == [])


async def test_interface_attach_and_detach(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "with-nic", networks="none")
    async with cloud.pool.acquire() as conn:
        private = await networks.get_network_by_name(conn, cloud.demo.project_id, "private")
    assert private is not None
    base = f"{SERVERS}/{server_id}/os-interface"
    body = {"interfaceAttachment": {"net_id": str(private["id"])}}
    attach = await cloud.request("POST", base, cloud.demo, json=body)
    assert attach.status == 200, attach
    port_id = attach.body["interfaceAttachment"]["port_id"]
    address = attach.body["interfaceAttachment"]["fixed_ips"][0]["ip_address"]
    listed = await cloud.request("GET", base, cloud.demo)
    assert [i["port_id"] for i in listed.body["interfaceAttachments"]] == [port_id]
    server = await cloud.request("GET", f"{SERVERS}/{server_id}", cloud.demo)
    entry = server.body["server"]["addresses"]["private"][0]
    assert entry["addr"] == address and entry["OS-EXT-IPS:type"] == "fixed"
    ips = await cloud.request("GET", f"{SERVERS}/{server_id}/ips/private", cloud.demo)
    assert ips.body == {"private": [{"version": 4, "addr": address}]}
    await cloud.wait_for(
        f"{base}/{port_id}",
        cloud.demo,
        "interfaceAttachment",
        lambda i: i["port_state"] == "ACTIVE",
    )
    await cloud.wait_for(
        f"{SERVERS}/{server_id}", cloud.demo, "server", lambda s: s["OS-EXT-STS:task_state"] is None
    )
    detach = await cloud.request("DELETE", f"{base}/{port_id}", cloud.demo)
    assert detach.status == 202, detach
    await cloud.wait_for(base, cloud.demo, "interfaceAttachments", lambda i: i == [])


async def test_external_events(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "events")
    events = {
        "events": [
            {"name": "network-vif-plugged", "server_uuid": server_id, "tag": "port-1"},
            {"name": "volume-extended", "server_uuid": "2c1b7d5e-6f1a-4b7e-9a53-8d1e1f6c0a11"},
        ]
    }
    refused = await cloud.request(
        "POST", "/compute/v2.1/os-server-external-events", cloud.demo, json=events
    )
    assert refused.status == 403, refused
    answer = await cloud.request(
        "POST", "/compute/v2.1/os-server-external-events", cloud.admin, json=events
    )
    assert answer.status == 207, answer
    assert [e["code"] for e in answer.body["events"]] == [200, 404]
    assert answer.body["events"][1]["status"] == "failed"
    actions = await cloud.request("GET", f"{SERVERS}/{server_id}/os-instance-actions", cloud.admin)
    newest = actions.body["instanceActions"][0]["request_id"]
    shown = await cloud.request(
        "GET", f"{SERVERS}/{server_id}/os-instance-actions/{newest}", cloud.admin
    )
    assert "network-vif-plugged:port-1" in [
        e["event"] for e in shown.body["instanceAction"]["events"]
    ]
    bad = await cloud.request(
        "POST",
        "/compute/v2.1/os-server-external-events",
        cloud.admin,
        json={"events": [{"name": "nonsense", "server_uuid": server_id}]},
    )
    assert bad.status == 400, bad
