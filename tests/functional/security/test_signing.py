"""Fact signatures without a broker: they survive the wire (single and coalesced
encodings), and any change to the envelope, or the wrong key, breaks them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from corebus.envelope import Envelope, Kind, decode_any, encode_batch, envelope_for
from corebus.errors import InvalidMessage
from corebus.signing import Signer, Verifier, agent_key, new_master_key
from schemas.instance_state import PowerState
from schemas.messages.facts import InstancePowerStateChanged

MASTER = new_master_key()
TOPIC = "compute.compute-1.instance.power_state"


def signed(host: str = "compute-1", key_host: str = "compute-1") -> Envelope:
    fact = InstancePowerStateChanged(
        host=host,
        resource_id=uuid.uuid4(),
        seq=7,
        observed_at=datetime.now(UTC),
        power_state=PowerState.RUNNING,
        reason="r",
    )
    return Signer(agent_key(MASTER, key_host)).sign(envelope_for(fact, Kind.EVENT))


def test_a_signature_survives_the_wire() -> None:
    verifier = Verifier(MASTER.encode())
    envelope = signed()
    verifier.verify(TOPIC, Envelope.decode(envelope.encode()))
    for raw in decode_any(encode_batch([envelope, signed()])):
        verifier.verify(TOPIC, Envelope.model_validate(raw))


@pytest.mark.parametrize(
    "change",
    [
        {"payload": {"power_state": 4}},
        {"payload": {"seq": 8}},
        {"context": {"is_admin": True}},
        {"schema": "fact.instance.deleted"},
    ],
)
def test_any_change_breaks_it(change: dict[str, dict[str, object]]) -> None:
    wire = orjson.loads(signed().encode())
    for key, value in change.items():
        wire[key] = {**wire[key], **value} if isinstance(value, dict) else value
    with pytest.raises(InvalidMessage, match="bad signature"):
        Verifier(MASTER.encode()).verify(TOPIC, Envelope.model_validate(wire))


def test_another_hosts_key_or_master_does_not_verify() -> None:
    with pytest.raises(InvalidMessage, match="bad signature"):
        Verifier(MASTER.encode()).verify(TOPIC, signed(key_host="compute-2"))
    with pytest.raises(InvalidMessage, match="bad signature"):
        Verifier(new_master_key().encode()).verify(TOPIC, signed())
    with pytest.raises(InvalidMessage, match="unsigned"):
        Verifier(MASTER.encode()).verify(TOPIC, signed().model_copy(update={"signature": None}))
