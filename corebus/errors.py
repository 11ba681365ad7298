"""Transport errors. They derive from the wire-registered `SkymeshError`, so a
remote side can send them back as typed error envelopes too."""

from __future__ import annotations

from schemas.errors import SkymeshError


class NoConsumer(SkymeshError):
    """Nobody is bound to the topic: raised at once, not after a timeout."""

    code = "no_consumer"
    http_status = 503
    retryable = True


class DeadlineExceeded(SkymeshError):
    code = "deadline_exceeded"
    http_status = 504
    retryable = True


class ConnectionLost(SkymeshError):
    """The broker connection dropped while the call was in flight; safe to retry."""

    code = "connection_lost"
    http_status = 503
    retryable = True


class BusUnavailable(SkymeshError):
    """The broker could not be reached within the allowed time."""

    code = "bus_unavailable"
    http_status = 503
    retryable = True


class InvalidMessage(SkymeshError):
    """A message that does not decode or does not validate: dead-lettered with this reason."""

    code = "invalid_message"
    http_status = 400
