"""Tokens expire and can be revoked, through HTTP: a token stops working once its
lifetime is over (and a token made from it expires with it), and a revoked token is
refused at once by every API, not only by token validation; only its own user or an
admin may revoke it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.functional.gateway.cloud import Account, Cloud, running_cloud

pytestmark = pytest.mark.functional
TTL = 2.0
APIS = ("/compute/v2.1/servers", "/network/v2.0/networks", "/volume/v3/volumes", "/image/v2/images")


async def statuses(cloud: Cloud, who: Account) -> set[int]:
    return {(await cloud.request("GET", path, who)).status for path in APIS}


def from_token(token: str, project: str) -> dict[str, object]:
    return {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"id": project}},
        }
    }


async def test_tokens_expire(
    cloud_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    async with running_cloud(cloud_dsn, tmp_path, token_ttl_s=TTL) as cloud:
        account = await cloud.new_account()
        issued_at = datetime.now(UTC)
        assert await statuses(cloud, account) == {200}
        shown = await cloud.request(
            "GET", "/identity/v3/auth/tokens", account, headers={"X-Subject-Token": account.token}
        )
        expires = datetime.fromisoformat(shown.body["token"]["expires_at"].replace("Z", "+00:00"))
        assert 0 < (expires - issued_at).total_seconds() <= TTL + 1
        # a token made from this one cannot outlive it
        chained = await cloud.request(
            "POST",
            "/identity/v3/auth/tokens",
            json=from_token(account.token, str(account.project_id)),
        )
        assert chained.status == 201, chained
        assert chained.body["token"]["expires_at"] == shown.body["token"]["expires_at"]
        child = Account(**{**account.__dict__, "token": chained.headers["X-Subject-Token"]})
        await asyncio.sleep(TTL + cloud.settings.gateway.token_cache_s + 0.5)
        assert await statuses(cloud, account) == {401}
        assert await statuses(cloud, child) == {401}
        late = await cloud.request(
            "POST",
            "/identity/v3/auth/tokens",
            json=from_token(account.token, str(account.project_id)),
        )
        assert late.status == 401, late


async def test_a_revoked_token_is_refused_everywhere(cloud: Cloud) -> None:
    account, other = await cloud.new_account(), await cloud.new_account()
    assert await statuses(cloud, account) == {200}
    # another user may not revoke it ...
    meddling = await cloud.request(
        "DELETE", "/identity/v3/auth/tokens", other, headers={"X-Subject-Token": account.token}
    )
    assert meddling.status in (401, 403), meddling
    assert await statuses(cloud, account) == {200}
    # ... its own user may, and then no API takes it
    revoke = await cloud.request(
        "DELETE", "/identity/v3/auth/tokens", account, headers={"X-Subject-Token": account.token}
    )
    assert revoke.status == 204, revoke
    assert await statuses(cloud, account) == {401}
    # an admin may revoke anyone's
    await cloud.login(other)
    assert await statuses(cloud, other) == {200}
    by_admin = await cloud.request(
        "DELETE", "/identity/v3/auth/tokens", cloud.admin, headers={"X-Subject-Token": other.token}
    )
    assert by_admin.status == 204, by_admin
    await asyncio.sleep(cloud.settings.gateway.token_cache_s + 0.2)
    assert await statuses(cloud, other) == {401}
