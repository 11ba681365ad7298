"""Server groups: (anti-)affinity between the members' hosts."""

from __future__ import annotations

from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, model_validator

from schemas.base import Model, Resource
from schemas.types import Name, PositiveInt


class ServerGroupPolicy(StrEnum):
    AFFINITY = "affinity"  # every member on the same host (hard)
    ANTI_AFFINITY = "anti-affinity"  # members on distinct hosts (hard)
    SOFT_AFFINITY = "soft-affinity"  # weigh towards the members' hosts
    SOFT_ANTI_AFFINITY = "soft-anti-affinity"  # weigh away from them

    @property
    def hard(self) -> bool:
        return self in (ServerGroupPolicy.AFFINITY, ServerGroupPolicy.ANTI_AFFINITY)


class ServerGroupRules(Model):
    """max_server_per_host: how many members one host may hold (anti-affinity only)."""

    max_server_per_host: PositiveInt | None = None


class ServerGroup(Resource):
    id: UUID
    name: Name
    project_id: UUID
    user_id: UUID
    policy: ServerGroupPolicy
    rules: ServerGroupRules = ServerGroupRules()
    members: tuple[UUID, ...] = ()
    created_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _rules_fit_policy(self) -> Self:
        if (
            self.rules.max_server_per_host is not None
            and self.policy is not ServerGroupPolicy.ANTI_AFFINITY
        ):
            raise ValueError("max_server_per_host is only valid with the anti-affinity policy")
        if len(self.members) != len(set(self.members)):
            raise ValueError("a server is a member of a group once")
        return self

    @property
    def max_per_host(self) -> int | None:
        """How many members one host may hold under the hard policy, None for no limit."""
        if self.policy is ServerGroupPolicy.ANTI_AFFINITY:
            return self.rules.max_server_per_host or 1
        return None
