"""Namespaces as names in a JSON state file. Fault injection through `faults`."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from node_agent.drivers.dvr.base import NamespaceKind, namespace_name
from node_agent.drivers.fake_base import JsonBackedFake


class FakeDvr(JsonBackedFake):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, "dvr")

    async def ensure_namespace(self, kind: NamespaceKind, owner_id: UUID) -> str:
        await self.faults.checkpoint("ensure_namespace")
        name = namespace_name(kind, owner_id)
        self._table("namespaces")[name] = {"kind": kind.value, "owner_id": str(owner_id)}
        self._save()
        return name

    async def delete_namespace(self, kind: NamespaceKind, owner_id: UUID) -> bool:
        await self.faults.checkpoint("delete_namespace")
        found = self._table("namespaces").pop(namespace_name(kind, owner_id), None) is not None
        self._save()
        return found

    async def list_namespaces(self) -> list[str]:
        await self.faults.checkpoint("list_namespaces")
        return sorted(self._table("namespaces"))
