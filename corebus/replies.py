"""Turning a reply envelope back into a result or a raised, typed error."""

from __future__ import annotations

from corebus.envelope import Envelope, Kind
from schemas.errors import error_from_wire


def raise_for_error(reply: Envelope) -> Envelope:
    if reply.kind is Kind.ERROR:
        raise error_from_wire(reply.payload)
    return reply
