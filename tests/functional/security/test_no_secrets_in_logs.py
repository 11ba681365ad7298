"""Passwords and keys never reach the logs: every log record of a session that issues
tokens with passwords, creates users, changes passwords (right and wrong), sends a
password where it does not belong, and connects to the broker with a password in the
URL (also a wrong one) is captured at DEBUG and searched for the secrets."""

from __future__ import annotations

import logging
import uuid

import pytest

from corebus.amqp.bus import AmqpBus
from corebus.logs import JsonFormatter, TextFormatter
from tests.functional.gateway.cloud import Cloud

pytestmark = pytest.mark.functional
K = "/identity/v3"


def token_request(user: str, password: str) -> dict[str, object]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            }
        }
    }


async def test_passwords_stay_out_of_the_logs(
    cloud: Cloud, amqp_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # configure_logging (run in-process by other tests of this worker) turns the broker
    # client's loggers down to WARNING: bring them back for this test
    for name in ("aiormq", "aio_pika"):
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = [f"Pw-{uuid.uuid4().hex}" for _ in range(5)]
    first, second, wrong, misplaced, broker = secrets
    name = f"logs-{uuid.uuid4().hex[:6]}"
    made = await cloud.request(
        "POST", f"{K}/users", cloud.admin, json={"user": {"name": name, "password": first}}
    )
    assert made.status == 201, made
    user_id = made.body["user"]["id"]
    issued = await cloud.request("POST", f"{K}/auth/tokens", json=token_request(name, first))
    assert issued.status == 201, issued
    token = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
    refused = await cloud.request("POST", f"{K}/auth/tokens", json=token_request(name, wrong))
    assert refused.status == 401
    change = {"user": {"original_password": first, "password": second}}
    changed = await cloud.request(
        "POST", f"{K}/users/{user_id}/password", headers=token, json=change
    )
    assert changed.status == 204, changed
    bad_change = {"user": {"original_password": wrong, "password": misplaced}}
    await cloud.request("POST", f"{K}/users/{user_id}/password", headers=token, json=bad_change)
    # a password in a field that does not take one is refused, and not echoed
    odd = {"user": {"name": name + "x", "password": first, "unexpected": misplaced}}
    await cloud.request("POST", f"{K}/users", cloud.admin, json=odd)
    long_pw = {"user": {"name": name + "y", "password": misplaced * 200}}
    await cloud.request("POST", f"{K}/users", cloud.admin, json=long_pw)
    # a broker URL with a password: a wrong one (fails to connect)
    bad_url = amqp_url.replace("guest:guest@", f"guest:{broker}@")
    bus = AmqpBus(bad_url, name="logs-test", publish_timeout=2.0, reconnect_max=0.5)
    with pytest.raises(Exception):  # noqa: B017 - refused by the broker, any way it says so
        await bus.start()
    await bus.close()

    rendered = [JsonFormatter().format(r) + TextFormatter().format(r) for r in caplog.records]
    assert rendered, "nothing was logged: the capture is broken"
    for secret in secrets:
        leaks = [line for line in rendered if secret in line]
        assert not leaks, f"a secret reached the logs: {leaks[:3]}"
        assert secret not in caplog.text
