"""The OpenAPI document covers every route the app serves, and is valid OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from corebus.config import GatewaySettings
from corebus.memory import InMemoryBus
from gateway.app import all_routes, build_app
from gateway.openapi import document, openapi_path, served_document
from gateway.routing import Access, Routes


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return served_document("http://127.0.0.1:8780")


def served(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route on the app's router, HEAD included."""
    found = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        assert path, f"a resource without a path: {resource!r}"
        for route in resource:
            found.add((route.method.lower(), openapi_path(path)))
    return found


def test_every_served_route_is_in_the_document(doc: dict[str, Any]) -> None:
    app = build_app(GatewaySettings(), InMemoryBus())
    routes = served(app)
    assert ("post", "/identity/v3/auth/tokens") in routes
    missing = sorted(
        f"{method.upper()} {path}"
        for method, path in routes
        if method not in doc["paths"].get(path, {})
    )
    assert not missing, f"served but not documented: {missing}"
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert documented == routes, f"documented but not served: {sorted(documented - routes)}"


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_each_route_is_described_as_its_table_says(doc: dict[str, Any]) -> None:
    for route in all_routes():
        operation = doc["paths"][openapi_path(route.path)][route.method.lower()]
        where = f"{route.method} {route.path}"
        assert operation["summary"] == route.summary, where
        assert route.service in operation["tags"], where
        assert str(route.status) in operation["responses"], where
        if route.access is Access.PUBLIC:
            assert operation["security"] == [], where
        else:
            assert {"authToken": []} in operation["security"], where
            assert {"401", "403"} <= set(operation["responses"]), where
        names = {p["name"] for p in operation.get("parameters", [])}
        assert set(route.query) <= names, where
        if route.body is not None:
            assert "requestBody" in operation, where
    names = {tag["name"] for tag in doc["tags"]}
    assert {r.service for r in all_routes()} <= names


def test_password_authentication_is_public_with_a_body_schema(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/identity/v3/auth/tokens"]["post"]
    assert operation["security"] == []
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def test_event_streams_take_the_token_in_the_query_too(doc: dict[str, Any]) -> None:
    sse = doc["paths"]["/v1/events"]["get"]
    assert {"queryToken": []} in sse["security"]
    assert "text/event-stream" in sse["responses"]["200"]["content"]
    assert "410" in sse["responses"]
    assert "101" in doc["paths"]["/v1/events/ws"]["get"]["responses"]
    assert doc["components"]["securitySchemes"]["queryToken"]["in"] == "query"


def test_path_parameters_and_distinct_operation_ids() -> None:
    table = Routes("compute", "/compute/v2.1")

    async def show(request: web.Request) -> web.Response:
        raise AssertionError

    table.get("/servers/{server_id}", summary="Show")(show)
    table.delete("/servers/{server_id:[0-9a-f-]+}", summary="Delete")(show)
    doc = document(table.routes, "http://x")
    item = doc["paths"]["/compute/v2.1/servers/{server_id}"]
    assert item["get"]["parameters"][0] == {
        "name": "server_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    assert item["get"]["operationId"] != item["delete"]["operationId"]
    assert item["delete"]["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ComputeFault"
    }
    validate(doc)
