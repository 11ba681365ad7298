"""Conductor RPC: authentication and tokens (Keystone's password and token methods).

The gateway holds no credentials and no token table: it sends what the client gave and
gets back who the caller is. The conductor stores only the sha256 of each token.
"""

from __future__ import annotations

from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Message, Model
from schemas.identity import TokenId


class NamedRef(Model):
    id: UUID
    name: str = Field(min_length=1, max_length=255)


class TokenInfo(Model):
    """What a token says about its bearer; `project` is None for an unscoped token."""

    user: NamedRef
    project: NamedRef | None = None
    roles: tuple[NamedRef, ...] = ()
    methods: tuple[str, ...] = ("password",)
    issued_at: AwareDatetime
    expires_at: AwareDatetime
    audit_ids: tuple[str, ...] = ()

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles)


class Authenticate(Message):
    """Password (user by id or name) or token (rescope an existing token) authentication,
    optionally scoped to a project by id or name."""

    message_name = "conductor.authenticate"
    message_version = 1

    user_id: UUID | None = None
    user_name: str | None = Field(None, min_length=1, max_length=255)
    password: str | None = Field(None, max_length=4096)
    token: TokenId | None = None
    project_id: UUID | None = None
    project_name: str | None = Field(None, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _one_method(self) -> Self:
        if self.token is None:
            if self.password is None or (self.user_id is None and self.user_name is None):
                raise ValueError("give a user (id or name) with a password, or a token")
        elif self.password is not None:
            raise ValueError("give either a password or a token, not both")
        return self


class AuthenticateReply(Message):
    message_name = "conductor.authenticate.reply"
    message_version = 1

    token: TokenId
    info: TokenInfo


class ValidateToken(Message):
    message_name = "conductor.validate_token"
    message_version = 1

    token: TokenId


class ValidateTokenReply(Message):
    message_name = "conductor.validate_token.reply"
    message_version = 1

    info: TokenInfo


class RevokeToken(Message):
    message_name = "conductor.revoke_token"
    message_version = 1

    token: TokenId
