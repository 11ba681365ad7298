"""Key pairs and server groups through the gateway: import and generate, shapes per
microversion, the key_pairs and server_groups quotas, and isolation between users and
projects."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from conductor.compute_admin_server_groups import join_server_group
from schemas.errors import NotFound, QuotaExceeded
from tests.functional.gateway.cloud import Cloud

V = "/compute/v2.1"
LATEST = {"OpenStack-API-Version": "compute 2.79"}


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " me@laptop"


async def test_generate_and_import_keypairs(cloud: Cloud) -> None:
    user = await cloud.new_account()
    made = await cloud.request(
        "POST", f"{V}/os-keypairs", user, json={"keypair": {"name": "gen"}}, headers=LATEST
    )
    assert made.status == 201, made
    keypair = made.body["keypair"]
    assert keypair["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert keypair["type"] == "ssh" and keypair["user_id"] == str(user.user_id)
    assert len(keypair["fingerprint"].split(":")) == 16
    public = _public_key()
    imported = await cloud.request(
        "POST", f"{V}/os-keypairs", user, json={"keypair": {"name": "mine", "public_key": public}}
    )
    assert imported.status == 200, imported  # 2.1: 200, no type
    assert "private_key" not in imported.body["keypair"] and "type" not in imported.body["keypair"]
    listed = await cloud.request("GET", f"{V}/os-keypairs", user, headers=LATEST)
    assert [k["keypair"]["name"] for k in listed.body["keypairs"]] == ["gen", "mine"]
    shown = await cloud.request("GET", f"{V}/os-keypairs/mine", user)
    assert shown.body["keypair"]["public_key"] == public and shown.body["keypair"]["created_at"]
    x509 = await cloud.request(
        "POST",
        f"{V}/os-keypairs",
        user,
        json={"keypair": {"name": "cert", "type": "x509"}},
        headers=LATEST,
    )
    assert x509.status == 201 and x509.body["keypair"]["type"] == "x509", x509
    assert "BEGIN CERTIFICATE" in x509.body["keypair"]["public_key"]
    page = await cloud.request("GET", f"{V}/os-keypairs?limit=1&marker=cert", user, headers=LATEST)
    assert [k["keypair"]["name"] for k in page.body["keypairs"]] == ["gen"]
    assert "marker=gen" in page.body["keypairs_links"][0]["href"]
    dup = await cloud.request(
        "POST", f"{V}/os-keypairs", user, json={"keypair": {"name": "mine", "public_key": public}}
    )
    assert dup.status == 409, dup
    gone = await cloud.request("DELETE", f"{V}/os-keypairs/mine", user, headers=LATEST)
    assert gone.status == 204
    assert (await cloud.request("GET", f"{V}/os-keypairs/mine", user)).status == 404


async def test_bad_keypairs_are_400(cloud: Cloud) -> None:
    for keypair in (
        {"name": "bad", "public_key": "ssh-rsa not-base64!"},
        {"name": "bad/name"},
        {"name": "x", "type": "gpg"},
        {"name": "x", "type": "x509", "public_key": "not a certificate"},
    ):
        answer = await cloud.request(
            "POST", f"{V}/os-keypairs", cloud.demo, json={"keypair": keypair}, headers=LATEST
        )
        assert answer.status == 400, (keypair, answer)


async def test_keypairs_of_another_user_are_invisible(cloud: Cloud) -> None:
    owner = await cloud.new_account(project="demo")
    neighbour = await cloud.new_account(project="demo")
    made = await cloud.request(
        "POST", f"{V}/os-keypairs", owner, json={"keypair": {"name": "secret"}}
    )
    assert made.status == 200, made
    assert (await cloud.request("GET", f"{V}/os-keypairs/secret", neighbour)).status == 404
    assert (await cloud.request("DELETE", f"{V}/os-keypairs/secret", neighbour)).status == 404
    listed = await cloud.request("GET", f"{V}/os-keypairs", neighbour)
    assert listed.body["keypairs"] == []
    peek = await cloud.request(
        "GET", f"{V}/os-keypairs?user_id={owner.user_id}", neighbour, headers=LATEST
    )
    assert peek.status == 403, peek
    admin_view = await cloud.request(
        "GET", f"{V}/os-keypairs/secret?user_id={owner.user_id}", cloud.admin, headers=LATEST
    )
    assert admin_view.status == 200, admin_view
    reader = await cloud.new_account(role="reader")
    refused = await cloud.request(
        "POST", f"{V}/os-keypairs", reader, json={"keypair": {"name": "r"}}
    )
    assert refused.status == 403


async def test_key_pairs_quota_is_enforced(cloud: Cloud) -> None:
    user = await cloud.new_account()
    set_quota = await cloud.request(
        "PUT",
        f"{V}/os-quota-sets/{user.project_id}",
        cloud.admin,
        json={"quota_set": {"key_pairs": 1}},
    )
    assert set_quota.status == 200, set_quota
    body: dict[str, Any] = {"keypair": {"name": "one", "public_key": _public_key()}}
    assert (await cloud.request("POST", f"{V}/os-keypairs", user, json=body)).status == 200
    body["keypair"]["name"] = "two"
    over = await cloud.request("POST", f"{V}/os-keypairs", user, json=body)
    assert over.status == 403 and "forbidden" in over.body, over


async def test_server_groups_crud_and_shapes(cloud: Cloud) -> None:
    user = await cloud.new_account()
    made = await cloud.request(
        "POST",
        f"{V}/os-server-groups",
        user,
        json={
            "server_group": {
                "name": "spread",
                "policy": "anti-affinity",
                "rules": {"max_server_per_host": 2},
            }
        },
        headers=LATEST,
    )
    assert made.status == 200, made
    group = made.body["server_group"]
    assert group["policy"] == "anti-affinity" and group["rules"] == {"max_server_per_host": 2}
    assert group["members"] == [] and group["project_id"] == str(user.project_id)
    old = await cloud.request("GET", f"{V}/os-server-groups/{group['id']}", user)
    assert old.body["server_group"]["policies"] == ["anti-affinity"]
    assert "policy" not in old.body["server_group"] and "project_id" not in old.body["server_group"]
    legacy = await cloud.request(
        "POST",
        f"{V}/os-server-groups",
        user,
        json={"server_group": {"name": "together", "policies": ["affinity"]}},
    )
    assert legacy.status == 200, legacy
    listed = await cloud.request("GET", f"{V}/os-server-groups", user, headers=LATEST)
    assert [g["name"] for g in listed.body["server_groups"]] == ["spread", "together"]
    deleted = await cloud.request("DELETE", f"{V}/os-server-groups/{group['id']}", user)
    assert deleted.status == 204
    gone = await cloud.request("GET", f"{V}/os-server-groups/{group['id']}", user)
    assert gone.status == 404


async def test_bad_server_groups_are_400(cloud: Cloud) -> None:
    for version, group in (
        ("2.79", {"name": "g", "policy": "scatter"}),
        ("2.79", {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 2}}),
        ("2.79", {"name": "g", "policies": ["affinity"]}),
        ("2.1", {"name": "g", "policies": ["soft-affinity"]}),
        ("2.1", {"name": "g", "policies": ["affinity", "anti-affinity"]}),
        ("2.1", {"name": "", "policies": ["affinity"]}),
    ):
        answer = await cloud.request(
            "POST",
            f"{V}/os-server-groups",
            cloud.demo,
            json={"server_group": group},
            headers={"OpenStack-API-Version": f"compute {version}"},
        )
        assert answer.status == 400, (group, answer)
    bad_id = await cloud.request("GET", f"{V}/os-server-groups/not-a-uuid", cloud.demo)
    assert bad_id.status == 404


async def test_server_groups_of_another_project_are_invisible(cloud: Cloud) -> None:
    owner, stranger = await cloud.new_account(), await cloud.new_account()
    made = await cloud.request(
        "POST",
        f"{V}/os-server-groups",
        owner,
        json={"server_group": {"name": "mine", "policies": ["anti-affinity"]}},
    )
    path = f"{V}/os-server-groups/{made.body['server_group']['id']}"
    assert (await cloud.request("GET", path, stranger)).status == 404
    assert (await cloud.request("DELETE", path, stranger)).status == 404
    listed = await cloud.request("GET", f"{V}/os-server-groups?all_projects=1", stranger)
    assert listed.body["server_groups"] == []
    everyone = await cloud.request("GET", f"{V}/os-server-groups?all_projects=1", cloud.admin)
    assert made.body["server_group"]["id"] in {g["id"] for g in everyone.body["server_groups"]}
    reader = await cloud.new_account(role="reader")
    refused = await cloud.request(
        "POST",
        f"{V}/os-server-groups",
        reader,
        json={"server_group": {"name": "r", "policies": ["affinity"]}},
    )
    assert refused.status == 403
    assert (await cloud.request("GET", path, owner)).status == 200


async def test_server_groups_quota_is_enforced(cloud: Cloud) -> None:
    user = await cloud.new_account()
    await cloud.request(
        "PUT",
        f"{V}/os-quota-sets/{user.project_id}",
        cloud.admin,
        json={"quota_set": {"server_groups": 1}},
    )
    body = {"server_group": {"name": "g", "policies": ["affinity"]}}
    assert (await cloud.request("POST", f"{V}/os-server-groups", user, json=body)).status == 200
    over = await cloud.request("POST", f"{V}/os-server-groups", user, json=body)
    assert over.status == 403, over
    limits = await cloud.request("GET", f"{V}/limits", user)
    absolute = limits.body["limits"]["absolute"]
    assert absolute["maxServerGroups"] == 1 and absolute["totalServerGroupsUsed"] == 1


async def test_servers_join_groups_within_the_member_quota(cloud: Cloud) -> None:
    user = await cloud.new_account()
    await cloud.request(
        "PUT",
        f"{V}/os-quota-sets/{user.project_id}",
        cloud.admin,
        json={"quota_set": {"server_group_members": 1}},
    )
    made = await cloud.request(
        "POST",
        f"{V}/os-server-groups",
        user,
        json={"server_group": {"name": "pair", "policies": ["anti-affinity"]}},
    )
    group_id = UUID(made.body["server_group"]["id"])
    async with cloud.pool.acquire() as conn:
        image = await conn.fetchval("SELECT id FROM images WHERE name = 'busybox'")
        flavor = await conn.fetchval("SELECT id FROM flavors WHERE name = 'm1.tiny'")
    servers = []
    for name in ("a", "b"):
        body = {"name": name, "imageRef": str(image), "flavorRef": str(flavor), "networks": "none"}
        answer = await cloud.request("POST", f"{V}/servers", user, json={"server": body})
        assert answer.status == 202, answer
        servers.append(UUID(answer.body["server"]["id"]))
    async with cloud.pool.acquire() as conn, conn.transaction():
        hint = await join_server_group(conn, user.project_id, group_id, servers[:1])
    assert hint.group_id == group_id and hint.policy == "anti-affinity"
    with pytest.raises(QuotaExceeded):
        async with cloud.pool.acquire() as conn, conn.transaction():
            await join_server_group(conn, user.project_id, group_id, servers[1:])
    with pytest.raises(NotFound):
        async with cloud.pool.acquire() as conn, conn.transaction():
            await join_server_group(conn, cloud.demo.project_id, group_id, servers[1:])
    shown = await cloud.request("GET", f"{V}/os-server-groups/{group_id}", user)
    assert shown.body["server_group"]["members"] == [str(servers[0])]
