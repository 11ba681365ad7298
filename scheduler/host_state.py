"""What the scheduler knows of one host: the host as the conductor reported it and the
usage it plans against (the reported usage plus the claims of this request so far)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from schemas.claims import Claim
from schemas.fit import add_claim
from schemas.messages.conductor_hosts import HostSnapshot
from schemas.placement import Host, HostInventory, HostUsage

_NO_INVENTORY = HostInventory(vcpus=0, memory_mb=0, disk_gb=0)


@dataclass(frozen=True, slots=True)
class HostState:
    host: Host
    usage: HostUsage

    @classmethod
    def of(cls, snapshot: HostSnapshot) -> HostState:
        return cls(snapshot.host, snapshot.usage)

    @property
    def id(self) -> UUID:
        return self.host.id

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def generation(self) -> int:
        return self.host.generation

    @property
    def inventory(self) -> HostInventory:
        return self.host.inventory or _NO_INVENTORY

    def with_claim(self, claim: Claim) -> HostState:
        """This host with `claim` taken too (a plan consuming capacity as it goes)."""
        return replace(self, usage=add_claim(self.usage, claim))
