"""Samples of the identity area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from schemas.base import Message
from schemas.messages import conductor_identity as ci

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
TOKEN = "t" * 43
INFO = ci.TokenInfo(
    user=ci.NamedRef(id=UUID(int=1), name="demo"),
    project=ci.NamedRef(id=UUID(int=2), name="demo"),
    roles=(ci.NamedRef(id=UUID(int=3), name="member"),),
    issued_at=NOW,
    expires_at=NOW + timedelta(hours=1),
    audit_ids=("abc",),
)


def messages() -> list[Message]:
    return [
        ci.Authenticate(user_name="demo", password="secret", project_name="demo"),
        ci.AuthenticateReply(token=TOKEN, info=INFO),
        ci.ValidateToken(token=TOKEN),
        ci.ValidateTokenReply(info=INFO),
        ci.RevokeToken(token=TOKEN),
    ]
