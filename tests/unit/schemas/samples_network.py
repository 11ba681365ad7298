"""Samples of the network area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from schemas.base import Message


def messages() -> list[Message]:
    return []
