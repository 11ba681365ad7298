"""Message models used only by the bus tests."""

from __future__ import annotations

from pydantic import Field

from schemas.base import Message


class Echo(Message):
    message_name = "test.echo"
    text: str
    delay: float = Field(0.0, ge=0)


class EchoReply(Message):
    message_name = "test.echo_reply"
    text: str
    request_id: str | None = None


class Tick(Message):
    message_name = "test.tick"
    n: int = Field(ge=0)
