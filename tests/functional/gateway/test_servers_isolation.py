"""Cross-project isolation of servers and everything under them: another project's
member gets 404 (never 403) and never sees them in lists; an admin sees them only with
all_tenants; a reader of the owning project may read but not write (403)."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_servers import SERVERS, V279, create_active


async def test_another_project_cannot_see_or_touch_a_server(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "private-server")
    other = await cloud.new_account(role="member")
    base = f"{SERVERS}/{server_id}"
    vol = "2c1b7d5e-6f1a-4b7e-9a53-8d1e1f6c0a11"
    attempts: list[tuple[str, str, Any]] = [
        ("GET", base, None),
        ("PUT", base, {"server": {"name": "stolen"}}),
        ("DELETE", base, None),
        ("POST", f"{base}/action", {"os-stop": None}),
        ("POST", f"{base}/action", {"os-getConsoleOutput": {}}),
        ("GET", f"{base}/metadata", None),
        ("POST", f"{base}/metadata", {"metadata": {"x": "y"}}),
        ("PUT", f"{base}/metadata/x", {"meta": {"x": "y"}}),
        ("DELETE", f"{base}/metadata/x", None),
        ("GET", f"{base}/tags", None),
        ("PUT", f"{base}/tags/x", None),
        ("GET", f"{base}/os-volume_attachments", None),
        ("POST", f"{base}/os-volume_attachments", {"volumeAttachment": {"volumeId": vol}}),
        ("DELETE", f"{base}/os-volume_attachments/{vol}", None),
        ("GET", f"{base}/os-interface", None),
        ("GET", f"{base}/os-instance-actions", None),
        ("GET", f"{base}/ips", None),
    ]
    for method, path, body in attempts:
        answer = await cloud.request(method, path, other, json=body, headers=V279)
        assert answer.status == 404, (method, path, answer)
    for listing in (SERVERS, f"{SERVERS}/detail", f"{SERVERS}/detail?all_tenants=1"):
        listed = await cloud.request("GET", listing, other)
        assert server_id not in {s["id"] for s in listed.body["servers"]}, listing
    own = await cloud.request("GET", f"{SERVERS}/detail", cloud.admin)
    assert server_id not in {s["id"] for s in own.body["servers"]}
    every = await cloud.request("GET", f"{SERVERS}/detail?all_tenants=1", cloud.admin)
    assert server_id in {s["id"] for s in every.body["servers"]}
    demo_only = f"{SERVERS}?all_tenants=1&project_id={cloud.demo.project_id}"
    listed = await cloud.request("GET", demo_only, cloud.admin)
    assert server_id in {s["id"] for s in listed.body["servers"]}
    other_only = f"{SERVERS}?all_tenants=1&project_id={other.project_id}"
    listed = await cloud.request("GET", other_only, cloud.admin)
    assert server_id not in {s["id"] for s in listed.body["servers"]}
    still = await cloud.request("GET", base, cloud.demo)
    assert still.body["server"]["name"] == "private-server"


async def test_a_reader_may_read_but_not_write(cloud: Cloud) -> None:
    server_id = await create_active(cloud, cloud.demo, "read-only")
    reader = await cloud.new_account(role="reader", project="demo")
    base = f"{SERVERS}/{server_id}"
    assert (await cloud.request("GET", base, reader)).status == 200
    assert (await cloud.request("GET", f"{base}/metadata", reader)).status == 200
    writes: list[tuple[str, str, Any]] = [
        ("PUT", base, {"server": {"name": "x"}}),
        ("DELETE", base, None),
        ("POST", f"{base}/action", {"os-stop": None}),
        ("POST", f"{base}/metadata", {"metadata": {"x": "y"}}),
        ("PUT", f"{base}/tags/x", None),
        ("DELETE", f"{base}/os-interface/2c1b7d5e-6f1a-4b7e-9a53-8d1e1f6c0a11", None),
    ]
    for method, path, body in writes:
        answer = await cloud.request(method, path, reader, json=body, headers=V279)
        assert answer.status == 403, (method, path, answer)
