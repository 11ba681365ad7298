"""Identity v3 tokens through the gateway: issue, validate, revoke; discovery; the
request id on every answer."""

from __future__ import annotations

from tests.functional.gateway.cloud import Cloud


async def test_password_token_carries_catalog_and_roles(cloud: Cloud) -> None:
    answer = await cloud.request(
        "GET",
        "/identity/v3/auth/tokens",
        cloud.admin,
        headers={"X-Subject-Token": cloud.demo.token},
    )
    assert answer.status == 200, answer
    token = answer.body["token"]
    assert token["project"]["name"] == "demo"
    assert [r["name"] for r in token["roles"]] == ["member"]
    types = {entry["type"] for entry in token["catalog"]}
    assert {"identity", "compute", "network", "volumev3", "image"} <= types
    endpoint = token["catalog"][0]["endpoints"][0]
    assert {"interface", "url", "region_id"} <= set(endpoint)
    assert token["expires_at"].endswith("Z")
    assert answer.headers["X-OpenStack-Request-ID"].startswith("req-")


async def test_wrong_password_is_401_without_saying_which_part(cloud: Cloud) -> None:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "demo", "password": "wrong"}},
            }
        }
    }
    wrong = await cloud.request("POST", "/identity/v3/auth/tokens", json=body)
    body["auth"]["identity"]["password"]["user"]["name"] = "nobody-at-all"
    unknown = await cloud.request("POST", "/identity/v3/auth/tokens", json=body)
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body
    assert "X-OpenStack-Request-ID" in wrong.headers


async def test_revoked_token_is_refused(cloud: Cloud) -> None:
    account = await cloud.new_account()
    assert (await cloud.request("GET", "/compute/v2.1/", account)).status == 200
    revoke = await cloud.request(
        "DELETE", "/identity/v3/auth/tokens", account, headers={"X-Subject-Token": account.token}
    )
    assert revoke.status == 204, revoke
    check = await cloud.request(
        "GET", "/identity/v3/auth/tokens", cloud.admin, headers={"X-Subject-Token": account.token}
    )
    assert check.status == 404, check


async def test_missing_token_is_401_in_the_service_format(cloud: Cloud) -> None:
    answer = await cloud.request("GET", "/identity/v3/auth/tokens")
    assert answer.status == 401
    assert answer.body["error"]["code"] == 401
    assert "WWW-Authenticate" in answer.headers


async def test_version_documents(cloud: Cloud) -> None:
    compute = await cloud.request("GET", "/compute/v2.1")
    assert compute.status == 200
    version = compute.body["version"]
    assert version["status"] == "CURRENT"
    assert version["min_version"] == "2.1"
    identity = await cloud.request("GET", "/identity/v3")
    assert {"id", "status", "links"} <= set(identity.body["version"])


async def test_unknown_path_is_a_clean_404(cloud: Cloud) -> None:
    answer = await cloud.request("GET", "/compute/v2.1/no-such-thing", cloud.demo)
    assert answer.status == 404
    assert "itemNotFound" in answer.body
