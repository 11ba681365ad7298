"""Who is calling, taken from the validated token, and the gateway's shared parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from aiohttp import web

from corebus.bus import Bus
from corebus.client import Client
from corebus.config import GatewaySettings
from corebus.envelope import RequestContext
from schemas.messages.conductor_identity import TokenInfo

ADMIN_ROLES = frozenset({"admin"})
WRITER_ROLES = frozenset({"admin", "member", "service"})


@dataclass(frozen=True)
class Caller:
    token: str
    info: TokenInfo
    request_id: str

    @property
    def user_id(self) -> UUID:
        return self.info.user.id

    @property
    def project_id(self) -> UUID | None:
        return self.info.project.id if self.info.project else None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.info.role_names)

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)

    @property
    def may_write(self) -> bool:
        return bool(self.roles & WRITER_ROLES)

    def context(self, *, all_projects: bool = False) -> RequestContext:
        """The context every conductor call of this request carries; `all_projects`
        (admins only) asks for every project's resources."""
        return RequestContext(
            request_id=self.request_id,
            user_id=self.user_id,
            project_id=self.project_id,
            roles=tuple(sorted(self.roles)),
            is_admin=self.is_admin,
            all_tenants=all_projects and self.is_admin,
        )


@dataclass
class Gateway:
    """What handlers share: settings, the bus and a client on it, and free-form state
    that API modules keep under their own key (e.g. the event hub)."""

    settings: GatewaySettings
    bus: Bus
    client: Client
    public_url: str
    state: dict[str, Any] = field(default_factory=dict)


GATEWAY: web.AppKey[Gateway] = web.AppKey("skymesh.gateway", Gateway)
