"""Namespaces and plans as names in a JSON state file, with the real driver's naming: a
qrouter plan with floating IPs also makes its fip namespace, which goes with its last
user. Fault injection through `faults`."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from node_agent.drivers.dvr.base import (
    NamespaceKind,
    NetworkWiring,
    RepairReport,
    RouterPlan,
    namespace_name,
)
from node_agent.drivers.fake_base import JsonBackedFake


class FakeDvr(JsonBackedFake):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, "dvr")

    async def start(self, on_repair: RepairReport | None = None) -> None:
        await self.faults.checkpoint("start")

    async def close(self) -> None:
        return None

    async def ensure_network(self, wiring: NetworkWiring) -> None:
        await self.faults.checkpoint("ensure_network")
        self._table("networks")[str(wiring.network_id)] = wiring.model_dump(mode="json")
        self._save()

    async def delete_network(self, network_id: UUID) -> bool:
        await self.faults.checkpoint("delete_network")
        found = self._table("networks").pop(str(network_id), None) is not None
        self._save()
        return found

    async def ensure_qrouter(self, plan: RouterPlan) -> None:
        await self.faults.checkpoint("ensure_qrouter")
        self._table("qrouters")[str(plan.router_id)] = plan.model_dump(mode="json")
        self._add(NamespaceKind.QROUTER, plan.router_id)
        self._sync_fips()

    async def ensure_snat(self, plan: RouterPlan) -> None:
        await self.faults.checkpoint("ensure_snat")
        self._table("snats")[str(plan.router_id)] = plan.model_dump(mode="json")
        self._add(NamespaceKind.SNAT, plan.router_id)
        self._save()

    async def delete_router(self, router_id: UUID) -> bool:
        await self.faults.checkpoint("delete_router")
        found = self._table("qrouters").pop(str(router_id), None) is not None
        found |= self._table("snats").pop(str(router_id), None) is not None
        for kind in (NamespaceKind.QROUTER, NamespaceKind.SNAT):
            self._table("namespaces").pop(namespace_name(kind, router_id), None)
        self._sync_fips()
        return found

    async def ensure_namespace(self, kind: NamespaceKind, owner_id: UUID) -> str:
        await self.faults.checkpoint("ensure_namespace")
        name = self._add(kind, owner_id)
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

    def _add(self, kind: NamespaceKind, owner_id: UUID) -> str:
        name = namespace_name(kind, owner_id)
        self._table("namespaces")[name] = {"kind": kind.value, "owner_id": str(owner_id)}
        return name

    def _sync_fips(self) -> None:
        plans = map(RouterPlan.model_validate, self._table("qrouters").values())
        wanted = {p.gateway.network_id for p in plans if p.gateway and p.floating_ips}
        spaces = self._table("namespaces")
        for name, row in list(spaces.items()):
            if row["kind"] == NamespaceKind.FIP.value and UUID(row["owner_id"]) not in wanted:
                del spaces[name]
        for ext in wanted:
            self._add(NamespaceKind.FIP, ext)
        self._save()
