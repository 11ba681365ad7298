"""Replies shared by several requests."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.base import Message


class Accepted(Message):
    """The request was accepted; its outcome arrives later as facts or notifications."""

    message_name = "common.accepted"
    message_version = 1

    resource_id: UUID | None = None
    request_id: str | None = Field(None, max_length=64)
    detail: str = Field("", max_length=1024)
