"""A logging filter that blanks secrets a log line might carry by accident: the
password of a URL (`amqp://user:secret@host` -> `amqp://user:***@host`) and the value
of a password, token, key or secret field in JSON or `key=value` text. Installed on
the log handler by `configure_logging`, so it covers every logger, libraries too."""

from __future__ import annotations

import logging
import re

URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(?=@)", re.I)
FIELD = re.compile(
    r"(?P<head>[\"']?(?:password|passwd|secret|fact_key|fact_master_key|token|api_key)"
    r"[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\"'\s,}&]+)",
    re.I,
)
MASK = "***"


def redact(text: str) -> str:
    text = URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return FIELD.sub(lambda m: m.group("head") + MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments merged in) redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            safe = redact(trace)
            if safe != trace:  # the traceback carried a secret: keep only its clean text
                record.msg, record.args = f"{record.msg}\n{safe}", None
                record.exc_info, record.exc_text = None, None
        return True
