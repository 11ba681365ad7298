"""The gateway's core without services: microversions, error formats, the token cache,
route access defaults, the Keystone auth body, and the request id on every answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from corebus.config import GatewaySettings
from corebus.memory import InMemoryBus
from gateway import microversion
from gateway.app import build_app
from gateway.auth import TokenCache
from gateway.errors import HttpError, from_skymesh, render
from gateway.identity_tokens import authenticate_request
from gateway.routing import Access, Routes
from schemas.errors import Conflict, NotFound, RemoteError
from schemas.messages.conductor_identity import NamedRef, TokenInfo


def request(headers: dict[str, str]) -> web.Request:
    return make_mocked_request("GET", "/compute/v2.1/servers", headers=headers)


def test_no_version_header_means_the_minimum() -> None:
    assert microversion.requested(request({}), microversion.COMPUTE) == (2, 1)


@pytest.mark.parametrize(
    "headers",
    [
        {"OpenStack-API-Version": "compute 2.53"},
        {"X-OpenStack-Nova-API-Version": "2.53"},
        {"OpenStack-API-Version": "volume 3.1, compute 2.53"},
    ],
)
def test_version_headers_are_honoured(headers: dict[str, str]) -> None:
    assert microversion.requested(request(headers), microversion.COMPUTE) == (2, 53)


def test_latest_is_the_maximum() -> None:
    got = microversion.requested(
        request({"OpenStack-API-Version": "compute latest"}), microversion.COMPUTE
    )
    assert got == microversion.COMPUTE.maximum


def test_a_version_above_the_maximum_is_406() -> None:
    with pytest.raises(HttpError) as caught:
        microversion.requested(
            request({"OpenStack-API-Version": "compute 9.99"}), microversion.COMPUTE
        )
    assert caught.value.status == 406


def test_a_malformed_version_is_400() -> None:
    with pytest.raises(HttpError) as caught:
        microversion.requested(
            request({"X-OpenStack-Nova-API-Version": "two"}), microversion.COMPUTE
        )
    assert caught.value.status == 400


def test_errors_take_each_service_s_shape() -> None:
    error = HttpError(404, "gone", kind="NetworkNotFound")
    assert render("compute", error) == {"itemNotFound": {"code": 404, "message": "gone"}}
    assert render("network", error)["NeutronError"]["type"] == "NetworkNotFound"
    assert render("identity", error)["error"] == {
        "code": 404,
        "title": "Not Found",
        "message": "gone",
    }


def test_conductor_errors_map_to_http() -> None:
    assert from_skymesh(NotFound("x")).status == 404
    assert from_skymesh(Conflict("x")).status == 409
    assert from_skymesh(RemoteError("boom")).status == 500


def _info(expires_in: float = 3600) -> TokenInfo:
    now = datetime.now(UTC)
    return TokenInfo(
        user=NamedRef(id=UUID(int=1), name="u"),
        issued_at=now - timedelta(hours=2),
        expires_at=now + timedelta(seconds=expires_in),
    )


def test_token_cache_forgets_expired_and_dropped_tokens() -> None:
    cache = TokenCache(ttl_s=60, size=2)
    cache.put("a" * 20, _info())
    assert cache.get("a" * 20) is not None
    cache.drop("a" * 20)
    assert cache.get("a" * 20) is None
    cache.put("b" * 20, _info(expires_in=-60))  # the token itself expired
    assert cache.get("b" * 20) is None
    for key in ("c", "d", "e"):
        cache.put(key * 20, _info())
    assert cache.get("c" * 20) is None  # evicted: the cache is bounded
    assert cache.get("e" * 20) is not None


def test_token_cache_of_zero_seconds_keeps_nothing() -> None:
    cache = TokenCache(ttl_s=0)
    cache.put("a" * 20, _info())
    assert cache.get("a" * 20) is None


def test_route_access_defaults_to_reader_for_reads_and_member_for_writes() -> None:
    routes = Routes("compute", "/compute/v2.1")

    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    routes.get("/things", summary="list")(handler)
    routes.post("/things", summary="create")(handler)
    routes.delete("/things/{id}", summary="delete", access=Access.ADMIN)(handler)
    got = {(r.method, r.path): (r.access, r.status) for r in routes.routes}
    assert got == {
        ("GET", "/compute/v2.1/things"): (Access.READER, 200),
        ("POST", "/compute/v2.1/things"): (Access.MEMBER, 201),
        ("DELETE", "/compute/v2.1/things/{id}"): (Access.ADMIN, 204),
    }


def test_keystone_password_auth_body() -> None:
    message = authenticate_request(
        {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"name": "Default"}, "password": "pw"}
                },
            },
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
        }
    )
    assert (message.user_name, message.password, message.project_name) == ("demo", "pw", "demo")


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"identity": {"methods": ["password"]}},
        {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}},
    ],
)
def test_malformed_auth_bodies_are_400(auth: dict[str, Any]) -> None:
    with pytest.raises(HttpError) as caught:
        authenticate_request(auth)
    assert caught.value.status == 400


def test_another_domain_is_refused() -> None:
    with pytest.raises(HttpError) as caught:
        authenticate_request(
            {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": "x", "password": "y", "domain": {"id": "other"}}},
                }
            }
        )
    assert caught.value.status == 401


async def test_every_answer_carries_a_request_id_even_errors() -> None:
    app = build_app(GatewaySettings(), InMemoryBus(), "http://gw.example")
    async with TestClient(TestServer(app)) as client:
        ok = await client.get("/compute/v2.1")
        missing = await client.get("/compute/v2.1/servers", headers={})
        nowhere = await client.get("/no/such/path")
        wrong_method = await client.delete("/compute/v2.1")
        for answer in (ok, missing, nowhere, wrong_method):
            assert answer.headers["X-OpenStack-Request-ID"].startswith("req-")
        assert ok.status == 200
        assert missing.status in (401, 404)
        assert nowhere.status == 404
        assert wrong_method.status == 405
        assert "Allow" in wrong_method.headers
        given = "req-12345678-1234-1234-1234-123456789abc"
        echoed = await client.get("/compute/v2.1", headers={"X-OpenStack-Request-ID": given})
        assert echoed.headers["X-OpenStack-Request-ID"] == given


async def test_a_body_over_the_limit_is_413() -> None:
    settings = GatewaySettings(max_body_bytes=1024)
    app = build_app(settings, InMemoryBus(), "http://gw.example")
    async with TestClient(TestServer(app)) as client:
        answer = await client.post(
            "/identity/v3/auth/tokens",
            data=b"{" + b" " * 4096 + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert answer.status == 413
        assert (await answer.json())["error"]["code"] == 413
