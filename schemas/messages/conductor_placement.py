"""Conductor RPC for an admin asking where and why a server would be placed
(`GET /v1/servers/{id}/placement`): the conductor owns the server's stored request spec
and asks the scheduler (`scheduler.explain`) to run its pipeline on it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from schemas.base import Message
from schemas.messages.scheduler import ExplainPlacementReply
from schemas.types import HostName


class ExplainServerPlacement(Message):
    message_name = "conductor.explain_placement"
    message_version = 1

    server_id: UUID
    host: HostName | None = None  # also say why this host was or was not chosen
    limit: Annotated[int, Field(ge=1, le=100)] = 3


class ExplainServerPlacementReply(Message):
    """The scheduler's explanation for the server's request spec, as it would decide
    now, with the host the server is on (None before it was placed)."""

    message_name = "conductor.explain_placement.reply"
    message_version = 1

    server_id: UUID
    current_host: HostName | None = None
    explanation: ExplainPlacementReply
