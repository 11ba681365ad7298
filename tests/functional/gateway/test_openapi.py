"""`GET /openapi.json` through the running gateway."""

from __future__ import annotations

import pytest

from tests.functional.gateway.cloud import Cloud

pytestmark = pytest.mark.functional


async def test_openapi_document_is_public_and_names_this_gateway(cloud: Cloud) -> None:
    answer = await cloud.request("GET", "/openapi.json")
    assert answer.status == 200, answer
    assert answer.headers["Content-Type"].startswith("application/json")
    doc = answer.body
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": cloud.url}]
    assert "post" in doc["paths"]["/identity/v3/auth/tokens"]
    assert {"/v1/events", "/v1/events/ws", "/openapi.json"} <= set(doc["paths"])
    again = await cloud.request("GET", "/openapi.json", cloud.demo)
    assert again.body == doc
