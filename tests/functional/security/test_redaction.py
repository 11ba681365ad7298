"""The log filter blanks passwords in URLs and password/key fields, in messages,
their arguments and tracebacks, through the formatter `configure_logging` installs."""

from __future__ import annotations

import io
import logging

import pytest

from corebus.config import LoggingSettings
from corebus.logs import configure_logging
from corebus.redact import redact


def test_urls_and_fields_are_redacted() -> None:
    assert redact("amqp://agent-1:s3cr3t@broker:5672/vh") == "amqp://agent-1:***@broker:5672/vh"
    assert redact("postgresql://u:p%40ss@db/x") == "postgresql://u:***@db/x"
    assert "hunter2" not in redact('{"password": "hunter2", "name": "x"}')
    assert "hunter2" not in redact("password=hunter2&user=x")
    assert "abcd" not in redact("fact_key: abcd")
    assert redact("nothing secret here: host=compute-1") == "nothing secret here: host=compute-1"


@pytest.mark.parametrize("json_format", [True, False])
def test_configured_logging_never_prints_a_secret(
    json_format: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(LoggingSettings(level="DEBUG", json=json_format))
        log = logging.getLogger("skymesh.test")
        log.info("connecting to %s", "amqp://agent-1:TopSecret1@127.0.0.1/vh")
        log.warning("refused %s", {"password": "TopSecret2"})
        try:
            raise RuntimeError("could not open postgresql://conductor:TopSecret3@db/skymesh")
        except RuntimeError:
            log.exception("the pool failed")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    out = stream.getvalue()
    assert "connecting to" in out and "the pool failed" in out
    for secret in ("TopSecret1", "TopSecret2", "TopSecret3"):
        assert secret not in out
