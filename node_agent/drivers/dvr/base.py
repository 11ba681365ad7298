"""Distributed virtual routing: the network namespaces of a host (qrouter-<router> and
fip-<external network> on compute hosts, snat-<router> on the network role), as
pyroute2 would manage them. Idempotent."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol
from uuid import UUID


class NamespaceKind(StrEnum):
    QROUTER = "qrouter"
    FIP = "fip"
    SNAT = "snat"


def namespace_name(kind: NamespaceKind, owner_id: UUID) -> str:
    return f"{kind.value}-{owner_id}"


class DvrDriver(Protocol):
    async def ensure_namespace(self, kind: NamespaceKind, owner_id: UUID) -> str:
        """Create the namespace if missing; returns its name."""

    async def delete_namespace(self, kind: NamespaceKind, owner_id: UUID) -> bool: ...

    async def list_namespaces(self) -> list[str]: ...
