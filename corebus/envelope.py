"""The envelope every bus message travels in, and the request context it carries.

JSON on the wire (orjson), never pickle. The envelope names the schema and version
of its payload so the receiver validates against the right model.
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Message
from schemas.identity import RequestContext

__all__ = ["Envelope", "Kind", "RequestContext", "envelope_for", "reply_to"]


class Kind(StrEnum):
    CALL = "call"
    CAST = "cast"
    EVENT = "event"
    REPLY = "reply"
    ERROR = "error"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: Kind
    schema_name: str = Field(alias="schema")
    version: int = 1
    correlation_id: str | None = None
    causation_id: str | None = None
    deadline: float | None = None  # absolute, seconds since the epoch
    idempotency_key: str | None = None
    context: RequestContext = Field(default_factory=RequestContext)
    payload: dict[str, Any] = Field(default_factory=dict)
    signature: str | None = Field(None, max_length=128)  # facts: HMAC, see corebus/signing.py

    @property
    def schema(self) -> str:  # type: ignore[override]
        return self.schema_name

    def remaining(self, now: float | None = None) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - (time.time() if now is None else now)

    def expired(self, now: float | None = None) -> bool:
        left = self.remaining(now)
        return left is not None and left <= 0

    def encode(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", by_alias=True, exclude_none=True))

    @classmethod
    def decode(cls, body: bytes | str) -> Envelope:
        return cls.model_validate(orjson.loads(body))


def envelope_for(
    message: Message,
    kind: Kind,
    *,
    context: RequestContext | None = None,
    timeout: float | None = None,
    idempotency_key: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    """Wrap a schema message in an envelope of the given kind."""
    return Envelope(
        kind=kind,
        schema=message.message_name,
        version=message.message_version,
        deadline=None if timeout is None else time.time() + timeout,
        idempotency_key=idempotency_key,
        causation_id=causation_id,
        context=context or RequestContext(),
        payload=message.model_dump(mode="json"),
    )


def reply_to(
    request: Envelope, kind: Kind, schema: str, version: int, payload: dict[str, Any]
) -> Envelope:
    """The reply (or error) envelope answering `request`."""
    return Envelope(
        kind=kind,
        schema=schema,
        version=version,
        correlation_id=request.message_id,
        causation_id=request.message_id,
        context=request.context,
        payload=payload,
    )


def encode_batch(envelopes: list[Envelope]) -> bytes:
    """Several event envelopes in one wire message (a JSON array)."""
    return orjson.dumps(
        [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in envelopes]
    )


def decode_any(body: bytes) -> list[Any]:
    """Parse a wire body into raw envelope dicts: one object, or an array of them."""
    data = orjson.loads(body)
    return data if isinstance(data, list) else [data]
