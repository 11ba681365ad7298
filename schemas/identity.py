"""Identity: projects, users, roles, tokens and the caller context of a request."""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.base import Model, Resource
from schemas.types import Description, Name

RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]
TokenId = Annotated[str, StringConstraints(min_length=16, max_length=1024)]


class Project(Resource):
    id: UUID
    name: Name
    description: Description = ""
    enabled: bool = True
    domain_id: str = "default"


class User(Resource):
    """A user; the password hash never leaves the conductor, so it is not part of the model."""

    id: UUID
    name: Name
    email: str | None = Field(None, max_length=255)
    enabled: bool = True
    default_project_id: UUID | None = None
    domain_id: str = "default"
    description: Description = ""


class Role(Resource):
    id: UUID
    name: RoleName
    description: Description = ""
    immutable: bool = False  # built in (admin, member, reader, service): never deleted


class RoleAssignment(Resource):
    user_id: UUID
    project_id: UUID
    role_id: UUID


class Token(Resource):
    """An issued token; `id` is the opaque value the client sends as X-Auth-Token."""

    id: TokenId
    user_id: UUID
    project_id: UUID | None = None
    roles: tuple[RoleName, ...] = ()
    methods: tuple[str, ...] = ("password",)
    issued_at: AwareDatetime
    expires_at: AwareDatetime
    audit_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _expiry_after_issue(self) -> Self:
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        return self


def new_request_id() -> str:
    return "req-" + str(uuid4())


class RequestContext(Model):
    """Who is asking, as part of which request. It travels in every bus envelope (never
    in payloads); services acting on their own behalf (agents, the scheduler) carry no
    user or project, and user-facing handlers require both."""

    request_id: str = Field(default_factory=new_request_id, min_length=1, max_length=64)
    user_id: UUID | None = None
    project_id: UUID | None = None
    roles: tuple[RoleName, ...] = ()
    is_admin: bool = False
    all_tenants: bool = False
