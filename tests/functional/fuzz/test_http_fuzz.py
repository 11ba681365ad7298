"""The HTTP API fuzzed from its own OpenAPI document (schemathesis): every operation of
`/openapi.json`, with generated paths, queries and bodies, sent with an admin token to
the in-process cloud. No answer may be a 5xx, and every 4xx carries a readable message
in the format of its service (Nova/Cinder fault, NeutronError, Keystone/Glance error)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok

from gateway.errors import service_of
from tests.functional.fuzz.conftest import ThreadedCloud

pytestmark = pytest.mark.functional

EXAMPLES = 25  # per operation: ~200 operations, about a minute on two shared cores
# Long-lived streams: they answer 200 and then never end, nothing to fuzz there.
STREAMS = ("/events",)


def readable_error(path: str, status: int, body: Any) -> str | None:
    """Why this 4xx body is not a readable error of the path's service (None: it is)."""
    service = service_of(path)
    if not isinstance(body, dict) or len(body) != 1:
        return f"not a one-key JSON object: {body!r}"
    ((key, inner),) = body.items()
    if not isinstance(inner, dict):
        return f"{key} is not an object: {body!r}"
    if service in ("compute", "volume"):
        if inner.get("code") != status:
            return f"fault code {inner.get('code')!r} is not {status}"
    elif service == "network":
        if key != "NeutronError" or not inner.get("type"):
            return f"not a NeutronError: {body!r}"
    elif key != "error" or inner.get("code") != status:
        return f"not a Keystone/Glance error: {body!r}"
    message = inner.get("message")
    if not isinstance(message, str) or not message.strip():
        return f"no message: {body!r}"
    if message.lstrip().startswith(("<", "Traceback")):
        return f"the message is not for people: {message[:80]!r}"
    return None


def check(method: str, path: str, response: requests.Response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code}: {response.text[:300]}"
    if response.status_code < 400 or method == "HEAD" or response.status_code == 401:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} without a JSON body: {response.text[:200]!r}"
    return readable_error(path, response.status_code, body)


def _fuzzer(
    operation: Any,
    label: str,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    failures: dict[str, str],
) -> Any:
    """A hypothesis test of one operation that records its first problem."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        sent = {**(case.headers or {}), **headers}
        response = case.call(base_url=base_url, session=session, headers=sent, timeout=30)
        problem = check(case.method.upper(), response.request.path_url, response)
        if problem is not None and label not in failures:
            failures[label] = f"{problem}\n    reproduce: {case.as_curl_command(sent)}"
        assert problem is None

    return fuzz


@pytest.mark.timeout(600)
def test_every_operation_survives_generated_input(threaded_cloud: ThreadedCloud) -> None:
    cloud = threaded_cloud.cloud
    assert cloud is not None
    document = requests.get(cloud.url + "/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"X-Auth-Token": cloud.admin.token}
    session = requests.Session()
    failures: dict[str, str] = {}
    tried = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # the document itself is broken there
            failures[f"document {len(failures)}"] = f"invalid operation: {result.err()}"
            continue
        operation = result.ok()
        if operation.path.startswith(STREAMS) or operation.path.endswith(STREAMS):
            continue
        tried += 1
        label = f"{operation.method.upper()} {operation.path}"

        fuzz = _fuzzer(operation, label, cloud.url, session, headers, failures)
        try:
            fuzz()
        except AssertionError:
            pass  # recorded above; go on with the other operations
        except Exception as exc:  # generation trouble is a finding too
            failures.setdefault(label, f"could not fuzz: {type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - started
    print(f"fuzzed {tried} operations x {EXAMPLES} examples in {elapsed:.0f}s")
    assert tried > 100
    assert not failures, "\n".join(f"{k}: {v}" for k, v in sorted(failures.items()))
