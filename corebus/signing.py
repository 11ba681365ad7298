"""Signed facts: every envelope an agent publishes on the `events` stream carries an
HMAC-SHA256 of its canonical JSON, made with that agent's own key; the conductor
refuses (dead-letters, with the reason) facts that are unsigned, mis-signed, signed
with another host's key, or published under another host's routing key.

Per-agent keys are derived from one master secret that only the conductor (and the
operator tooling that hands keys out) holds, with HKDF-SHA256 and the host name as
the `info`, so the conductor needs no key table and an agent's key says nothing
about any other agent's:

    agent_key(master, "compute-1")   # what `skymesh up` gives the compute-1 agent

The signature covers the whole envelope (kind, schema, version, ids, context and
payload) except the `signature` field itself, serialised with sorted keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from corebus.config import AmqpSettings
from corebus.envelope import Envelope
from corebus.errors import InvalidMessage
from schemas.messages.facts import FACT_PREFIX, parse_routing_key

SALT = b"skymesh fact signing v1"
KEY_BYTES = 32
EventHandler = Callable[[str, Envelope], Awaitable[None]]


def agent_key(master: bytes | str, host: str) -> bytes:
    """The signing key of the agent on `host`, derived from the master secret."""
    secret = master.encode() if isinstance(master, str) else master
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=SALT, info=host.encode())
    return hkdf.derive(secret)


def parse_key(text: str) -> bytes:
    """A key from settings: hex (what `agent_key(...).hex()` gives)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError("a signing key is hex-encoded") from None
    if len(key) < 16:
        raise ValueError("a signing key needs at least 16 bytes")
    return key


def canonical(envelope: Envelope) -> bytes:
    data = envelope.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("signature", None)
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def signature(key: bytes, envelope: Envelope) -> str:
    return hmac.new(key, canonical(envelope), hashlib.sha256).hexdigest()


class Signer:
    """Signs what one agent publishes."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, envelope: Envelope) -> Envelope:
        unsigned = envelope.model_copy(update={"signature": None})
        return unsigned.model_copy(update={"signature": signature(self._key, unsigned)})


class Verifier:
    """Checks facts against the key of the host they claim to come from."""

    def __init__(self, master: bytes) -> None:
        self._master = master
        self._keys: dict[str, bytes] = {}

    def key_of(self, host: str) -> bytes:
        if host not in self._keys:
            self._keys[host] = agent_key(self._master, host)
        return self._keys[host]

    def verify(self, topic: str, envelope: Envelope) -> None:
        """Raise InvalidMessage (dead-lettered with its text) unless the fact is signed
        by the host named in its payload, and published under that host's topic."""
        if not envelope.schema_name.startswith(FACT_PREFIX):
            return  # only facts come from agents
        host = envelope.payload.get("host")
        if not isinstance(host, str) or not host:
            raise InvalidMessage(f"{envelope.schema_name}: a fact must name its host")
        try:
            _, topic_host, _ = parse_routing_key(topic)
        except KeyError:
            topic_host = None
        if topic_host is not None and topic_host != host:
            raise InvalidMessage(
                f"{envelope.schema_name}: published as host {topic_host!r} about host {host!r}"
            )
        if not envelope.signature:
            raise InvalidMessage(f"unsigned fact {envelope.schema_name} from host {host!r}")
        expected = signature(self.key_of(host), envelope)
        if not hmac.compare_digest(expected, envelope.signature):
            raise InvalidMessage(
                f"bad signature on fact {envelope.schema_name} from host {host!r} "
                "(not signed with that host's key)"
            )

    def guard(self, handler: EventHandler) -> EventHandler:
        """`handler`, refusing what does not verify before it runs."""

        async def checked(topic: str, envelope: Envelope) -> None:
            self.verify(topic, envelope)
            await handler(topic, envelope)

        return checked


def signing_options(settings: AmqpSettings) -> dict[str, Any]:
    """The bus options the settings ask for: a signer (agents), a verifier (conductor)."""
    options: dict[str, Any] = {}
    if settings.fact_key:
        options["signer"] = Signer(parse_key(settings.fact_key))
    if settings.fact_master_key:
        options["verifier"] = Verifier(settings.fact_master_key.encode())
    return options


def new_master_key() -> str:
    """A fresh master secret (what `skymesh up` generates once per deployment)."""
    return secrets.token_hex(32)
