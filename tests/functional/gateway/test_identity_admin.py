"""Identity v3 administration through the gateway: projects, users, roles and grants as
Keystone answers them, and who may do what."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from conductor.db.queries import networks
from tests.functional.gateway.cloud import Answer, Cloud

V3 = "/identity/v3"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def create(cloud: Cloud, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    answer = await cloud.request("POST", f"{V3}/{kind}s", cloud.admin, json={kind: fields})
    assert answer.status == 201, answer
    created: dict[str, Any] = answer.body[kind]
    return created


async def role_id(cloud: Cloud, name: str) -> str:
    answer = await cloud.request("GET", f"{V3}/roles?name={name}", cloud.admin)
    assert answer.status == 200, answer
    (role,) = answer.body["roles"]
    return str(role["id"])


async def login(cloud: Cloud, name: str, password: str, project: str | None = None) -> Answer:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": name, "domain": {"id": "default"}, "password": password}},
        }
    }
    if project is not None:
        auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return await cloud.request("POST", f"{V3}/auth/tokens", json={"auth": auth})


async def eventually_refused(cloud: Cloud, token: str, timeout: float = 5.0) -> None:
    """The token stops working (at once in the conductor; the gateway may have cached
    the validation for `token_cache_s`)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await cloud.request("GET", f"{V3}/auth/projects", headers={"X-Auth-Token": token})
        if answer.status == 401:
            return
        assert time.monotonic() < deadline, f"the token still works: {answer}"
        await asyncio.sleep(0.1)


async def test_admin_creates_project_user_and_grant_then_user_logs_in(cloud: Cloud) -> None:
    project = await create(cloud, "project", {"name": unique("proj"), "description": "team"})
    assert project["domain_id"] == "default" and project["enabled"] is True
    assert project["links"]["self"].endswith(f"/identity/v3/projects/{project['id']}")
    user = await create(
        cloud,
        "user",
        {"name": unique("user"), "password": "s3cret", "default_project_id": project["id"]},
    )
    assert user["default_project_id"] == project["id"]
    assert "password" not in user and not any("hash" in key for key in user)
    member = await role_id(cloud, "member")
    grant = f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{member}"
    assert (await cloud.request("PUT", grant, cloud.admin)).status == 204
    assert (await cloud.request("HEAD", grant, cloud.admin)).status == 204

    token = await login(cloud, user["name"], "s3cret", project["name"])
    assert token.status == 201, token
    assert token.body["token"]["project"]["id"] == project["id"]
    assert [r["name"] for r in token.body["token"]["roles"]] == ["member"]
    headers = {"X-Auth-Token": token.headers["X-Subject-Token"]}
    mine = await cloud.request("GET", f"{V3}/users/{user['id']}/projects", headers=headers)
    assert [p["id"] for p in mine.body["projects"]] == [project["id"]]
    shown = await cloud.request("GET", f"{V3}/projects/{project['id']}", headers=headers)
    assert shown.status == 200 and shown.body["project"]["name"] == project["name"]

    assignments = await cloud.request(
        "GET",
        f"{V3}/role_assignments?scope.project.id={project['id']}&include_names=True",
        cloud.admin,
    )
    (assignment,) = assignments.body["role_assignments"]
    assert assignment["role"] == {"id": member, "name": "member"}
    assert assignment["user"]["name"] == user["name"]
    assert assignment["scope"]["project"]["domain"]["name"] == "Default"

    assert (await cloud.request("DELETE", grant, cloud.admin)).status == 204
    await eventually_refused(cloud, headers["X-Auth-Token"])
    assert (await cloud.request("HEAD", grant, cloud.admin)).status == 404


async def test_lookup_by_name_is_a_clean_404_then_a_filtered_list(cloud: Cloud) -> None:
    name = unique("proj")
    project = await create(cloud, "project", {"name": name})
    by_name = await cloud.request("GET", f"{V3}/projects/{name}", cloud.admin)
    assert by_name.status == 404 and by_name.body["error"]["code"] == 404
    listed = await cloud.request("GET", f"{V3}/projects?name={name}", cloud.admin)
    assert [p["id"] for p in listed.body["projects"]] == [project["id"]]
    assert set(listed.body["links"]) == {"self", "previous", "next"}
    assert (await cloud.request("GET", f"{V3}/roles/member", cloud.admin)).status == 404


async def test_builtin_roles_exist_and_cannot_be_deleted(cloud: Cloud) -> None:
    answer = await cloud.request("GET", f"{V3}/roles", cloud.admin)
    names = {r["name"] for r in answer.body["roles"]}
    assert {"admin", "member", "reader", "service"} <= names
    admin_role = await role_id(cloud, "admin")
    refused = await cloud.request("DELETE", f"{V3}/roles/{admin_role}", cloud.admin)
    assert refused.status == 403, refused
    role = await create(cloud, "role", {"name": unique("operator"), "description": "ops"})
    shown = await cloud.request("GET", f"{V3}/roles/{role['id']}", cloud.admin)
    assert shown.body["role"]["description"] == "ops"
    assert (await cloud.request("DELETE", f"{V3}/roles/{role['id']}", cloud.admin)).status == 204
    gone = await cloud.request("GET", f"{V3}/roles/{role['id']}", cloud.admin)
    assert gone.status == 404


async def test_non_admins_cannot_manage_identity(cloud: Cloud) -> None:
    member = await cloud.new_account(role="member")
    target = await create(cloud, "project", {"name": unique("proj")})
    attempts = [
        ("POST", f"{V3}/projects", {"project": {"name": unique("x")}}),
        ("GET", f"{V3}/projects", None),
        ("PATCH", f"{V3}/projects/{target['id']}", {"project": {"enabled": False}}),
        ("DELETE", f"{V3}/projects/{target['id']}", None),
        ("POST", f"{V3}/users", {"user": {"name": unique("x"), "password": "p"}}),
        ("GET", f"{V3}/users", None),
        ("PATCH", f"{V3}/users/{cloud.demo.user_id}", {"user": {"enabled": False}}),
        ("DELETE", f"{V3}/users/{cloud.demo.user_id}", None),
        ("POST", f"{V3}/roles", {"role": {"name": "sneaky"}}),
        ("GET", f"{V3}/roles", None),
        ("GET", f"{V3}/role_assignments", None),
        ("PUT", f"{V3}/projects/{target['id']}/users/{member.user_id}/roles/{uuid.uuid4()}", None),
    ]
    for method, path, payload in attempts:
        answer = await cloud.request(method, path, member, json=payload)
        assert answer.status == 403, (method, path, answer)
        assert answer.body["error"]["code"] == 403
    listed = await cloud.request("GET", f"{V3}/projects?name={target['name']}", cloud.admin)
    assert listed.body["projects"][0]["enabled"] is True


async def test_users_of_one_project_cannot_see_another(cloud: Cloud) -> None:
    a = await cloud.new_account(role="member")
    b = await cloud.new_account(role="member")
    own = await cloud.request("GET", f"{V3}/projects/{b.project_id}", b)
    assert own.status == 200
    for path in (
        f"{V3}/projects/{a.project_id}",
        f"{V3}/users/{a.user_id}",
        f"{V3}/users/{a.user_id}/projects",
        f"{V3}/projects/{uuid.uuid4()}",  # no existence oracle either
    ):
        answer = await cloud.request("GET", path, b)
        assert answer.status == 403, (path, answer)
    me = await cloud.request("GET", f"{V3}/users/{b.user_id}", b)
    assert me.status == 200 and me.body["user"]["name"] == b.user_name
    mine = await cloud.request("GET", f"{V3}/auth/projects", b)
    assert [p["id"] for p in mine.body["projects"]] == [str(b.project_id)]


async def test_reader_may_read_itself_but_not_write(cloud: Cloud) -> None:
    reader = await cloud.new_account(role="reader")
    assert (await cloud.request("GET", f"{V3}/users/{reader.user_id}", reader)).status == 200
    assert (await cloud.request("GET", f"{V3}/projects/{reader.project_id}", reader)).status == 200
    patch = {"project": {"description": "mine now"}}
    answer = await cloud.request("PATCH", f"{V3}/projects/{reader.project_id}", reader, json=patch)
    assert answer.status == 403


async def test_password_change_revokes_tokens_and_old_password_fails(cloud: Cloud) -> None:
    account = await cloud.new_account()
    path = f"{V3}/users/{account.user_id}/password"
    wrong = {"user": {"original_password": "not-it", "password": "brand-new"}}
    assert (await cloud.request("POST", path, account, json=wrong)).status == 401
    other = {"user": {"original_password": cloud.demo.password, "password": "x"}}
    theirs = await cloud.request(
        "POST", f"{V3}/users/{cloud.demo.user_id}/password", account, json=other
    )
    assert theirs.status == 403
    change = {"user": {"original_password": account.password, "password": "brand-new"}}
    answer = await cloud.request("POST", path, account, json=change)
    assert answer.status == 204, answer
    assert (await login(cloud, account.user_name, account.password)).status == 401
    assert (await login(cloud, account.user_name, "brand-new", account.project_name)).status == 201
    await eventually_refused(cloud, account.token)


async def test_deleting_or_disabling_a_user_ends_its_tokens(cloud: Cloud) -> None:
    doomed = await cloud.new_account()
    disabled = await cloud.new_account()
    patch = {"user": {"enabled": False}}
    answer = await cloud.request("PATCH", f"{V3}/users/{disabled.user_id}", cloud.admin, json=patch)
    assert answer.status == 200 and answer.body["user"]["enabled"] is False
    assert (
        await cloud.request("DELETE", f"{V3}/users/{doomed.user_id}", cloud.admin)
    ).status == 204
    for account in (doomed, disabled):
        await eventually_refused(cloud, account.token)
    assert (await login(cloud, disabled.user_name, disabled.password)).status == 401
    gone = await cloud.request("GET", f"{V3}/users/{doomed.user_id}", cloud.admin)
    assert gone.status == 404


async def test_admin_sets_a_users_password(cloud: Cloud) -> None:
    account = await cloud.new_account()
    patch = {"user": {"password": "set-by-admin"}}
    answer = await cloud.request("PATCH", f"{V3}/users/{account.user_id}", cloud.admin, json=patch)
    assert answer.status == 200, answer
    assert (await login(cloud, account.user_name, "set-by-admin")).status == 201
    assert (await login(cloud, account.user_name, account.password)).status == 401


async def test_duplicate_names_conflict(cloud: Cloud) -> None:
    project = await create(cloud, "project", {"name": unique("proj")})
    for kind, fields in (
        ("project", {"name": project["name"]}),
        ("user", {"name": cloud.demo.user_name, "password": "p"}),
        ("role", {"name": "member"}),
    ):
        answer = await cloud.request("POST", f"{V3}/{kind}s", cloud.admin, json={kind: fields})
        assert answer.status == 409, (kind, answer)
        assert answer.body["error"]["title"] == "Conflict"
    other = await create(cloud, "project", {"name": unique("proj")})
    rename = {"project": {"name": project["name"]}}
    answer = await cloud.request("PATCH", f"{V3}/projects/{other['id']}", cloud.admin, json=rename)
    assert answer.status == 409


async def test_bad_bodies_are_400_in_keystones_format(cloud: Cloud) -> None:
    for path, payload in (
        (f"{V3}/projects", {"project": {"description": "no name"}}),
        (f"{V3}/projects", {"project": {"name": 42}}),
        (f"{V3}/projects", {"project": {"name": "x", "enabled": "yes"}}),
        (f"{V3}/projects", {"project": {"name": "x", "domain_id": "elsewhere"}}),
        (f"{V3}/projects", {"name": "unwrapped"}),
        (f"{V3}/users", {"user": {"name": "x", "default_project_id": "not-a-uuid"}}),
        (f"{V3}/roles", {"role": {"name": "Not A Role Name!"}}),
    ):
        answer = await cloud.request("POST", path, cloud.admin, json=payload)
        assert answer.status == 400, (payload, answer)
        assert set(answer.body["error"]) == {"code", "title", "message"}
    raw = await cloud.request("POST", f"{V3}/projects", cloud.admin, data=b"{not json")
    assert raw.status == 400


async def test_project_with_resources_cannot_be_deleted(cloud: Cloud) -> None:
    owner = await cloud.new_account()
    async with cloud.pool.acquire() as conn:
        network = await networks.create_network(conn, owner.project_id, "keep-me")
    path = f"{V3}/projects/{owner.project_id}"
    refused = await cloud.request("DELETE", path, cloud.admin)
    assert refused.status == 409, refused
    assert "1 networks" in refused.body["error"]["message"]
    async with cloud.pool.acquire() as conn:
        await conn.execute("DELETE FROM networks WHERE id = $1", network["id"])
    assert (await cloud.request("DELETE", path, cloud.admin)).status == 204
    assert (await cloud.request("GET", path, cloud.admin)).status == 404


async def test_domains_and_catalog(cloud: Cloud) -> None:
    domains = await cloud.request("GET", f"{V3}/domains", cloud.demo)
    assert [d["id"] for d in domains.body["domains"]] == ["default"]
    shown = await cloud.request("GET", f"{V3}/domains/default", cloud.demo)
    assert shown.body["domain"]["name"] == "Default"
    assert (await cloud.request("GET", f"{V3}/domains/other", cloud.demo)).status == 404
    catalog = await cloud.request("GET", f"{V3}/auth/catalog", cloud.demo)
    assert {"compute", "network", "identity"} <= {e["type"] for e in catalog.body["catalog"]}
