"""The real DVR driver: namespaces, veths, policy routing (pyroute2) and nftables.

The plans it was given are kept in `<state dir>/dvr-namespaces.json`. `start()` adopts:
it applies the saved plans to what exists (namespaces found by name, links and addresses
compared), so a restarted agent changes nothing that is still right and traffic flows on.
Kernel events (a deleted link or address in a watched namespace) trigger the same
reconciliation; what it re-creates is reported through `on_repair`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from uuid import UUID

from node_agent.drivers.dvr import apply, kernel, nft
from node_agent.drivers.dvr.base import (
    NamespaceKind,
    NetworkWiring,
    RepairReport,
    RouterPlan,
    namespace_name,
)
from node_agent.drivers.dvr.kernel import Netns
from node_agent.drivers.dvr.options import DvrOptions
from node_agent.drivers.dvr.watch import HOST, KernelWatch
from node_agent.state_file import JsonStateFile

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.1


class NamespaceDvr:
    def __init__(self, options: DvrOptions, state_dir: Path) -> None:
        self.options = options
        self.host = Netns(options.host_netns)
        self._file = JsonStateFile(state_dir / "dvr-namespaces.json")
        data = self._file.load()
        self._networks = {
            w.network_id: w for w in map(NetworkWiring.model_validate, data.get("networks", []))
        }
        self._qrouters = {
            p.router_id: p for p in map(RouterPlan.model_validate, data.get("qrouters", []))
        }
        self._snats = {
            p.router_id: p for p in map(RouterPlan.model_validate, data.get("snats", []))
        }
        self._lock = asyncio.Lock()
        self._watch = KernelWatch(self._on_loss)
        self._on_repair: RepairReport | None = None
        self._pending: asyncio.Task[None] | None = None
        self._started = False

    def ns(self, kind: NamespaceKind, owner_id: UUID) -> str:
        return namespace_name(kind, owner_id, self.options.prefix)

    # -- lifecycle -----------------------------------------------------------------
    async def start(self, on_repair: RepairReport | None = None) -> None:
        self._on_repair = on_repair
        changes = await self.reconcile()
        log.info("dvr: adopted %d routers (%d changes)", len(self._qrouters), len(changes))
        self._started = True
        await self._sync_watch()

    async def close(self) -> None:
        self._started = False
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending
        await self._watch.close()

    # -- intent ----------------------------------------------------------------------
    async def ensure_network(self, wiring: NetworkWiring) -> None:
        self._networks[wiring.network_id] = wiring
        await self._apply()

    async def delete_network(self, network_id: UUID) -> bool:
        wiring = self._networks.pop(network_id, None)
        async with self._lock:
            self._save()
            if wiring is None:
                return False
            await self.host.delete_link(apply.layout.vxlan(wiring.vni))
            await self.host.delete_link(apply.bridge_name(network_id))
        return True

    async def ensure_qrouter(self, plan: RouterPlan) -> None:
        self._qrouters[plan.router_id] = plan
        await self._apply()

    async def ensure_snat(self, plan: RouterPlan) -> None:
        self._snats[plan.router_id] = plan
        await self._apply()

    async def delete_router(self, router_id: UUID) -> bool:
        found = bool(self._qrouters.pop(router_id, None)) | bool(self._snats.pop(router_id, None))
        await self._sync_watch()  # no socket may hold the namespaces to delete
        async with self._lock:
            self._save()
            gone = await kernel.remove(self.ns(NamespaceKind.QROUTER, router_id))
            gone |= await kernel.remove(self.ns(NamespaceKind.SNAT, router_id))
            await self._reconcile()
        return found or gone

    async def ensure_namespace(self, kind: NamespaceKind, owner_id: UUID) -> str:
        name = self.ns(kind, owner_id)
        await kernel.create(name)
        return name

    async def delete_namespace(self, kind: NamespaceKind, owner_id: UUID) -> bool:
        return await kernel.remove(self.ns(kind, owner_id))

    async def list_namespaces(self) -> list[str]:
        kinds = tuple(f"{self.options.prefix}{k.value}-" for k in NamespaceKind)
        return [n for n in kernel.listed(self.options.prefix) if n.startswith(kinds)]

    # -- reconciliation --------------------------------------------------------------
    async def reconcile(self) -> list[str]:
        async with self._lock:
            return await self._reconcile()

    async def _apply(self) -> None:
        async with self._lock:
            self._save()
            await self._reconcile()
        await self._sync_watch()

    async def _reconcile(self) -> list[str]:
        opts, host, changes = self.options, self.host, []
        for wiring in self._networks.values():
            changes += await apply.network(opts, host, wiring)
        users = self._fip_users()
        for ext in users:
            await kernel.create(self.ns(NamespaceKind.FIP, ext))
        for plan in self._qrouters.values():
            uses = plan.gateway.network_id if plan.gateway and plan.floating_ips else None
            fip_ns = self.ns(NamespaceKind.FIP, uses) if uses else None
            changes += await apply.qrouter(opts, host, plan, fip_ns)
        for ext, plans in users.items():
            changes += await apply.fip(opts, host, ext, plans)
        for name in await self.list_namespaces():
            if name.startswith(f"{opts.prefix}fip-") and UUID(name[-36:]) not in users:
                await kernel.remove(name)
        for plan in self._snats.values():
            changes += await apply.snat(opts, host, plan)
        if self._qrouters:
            gateways = [i.ip for p in self._qrouters.values() for i in p.interfaces]
            await host.nft(nft.host_ruleset(gateways))
        else:
            await host.nft(nft.delete_table("bridge", nft.HOST_TABLE))
        return changes

    def _fip_users(self) -> dict[UUID, list[RouterPlan]]:
        users: dict[UUID, list[RouterPlan]] = {}
        for plan in self._qrouters.values():
            if plan.gateway is not None and plan.floating_ips:
                users.setdefault(plan.gateway.network_id, []).append(plan)
        return users

    def _save(self) -> None:
        with self._file.locked():
            self._file.save(
                {
                    "networks": [w.model_dump(mode="json") for w in self._networks.values()],
                    "qrouters": [p.model_dump(mode="json") for p in self._qrouters.values()],
                    "snats": [p.model_dump(mode="json") for p in self._snats.values()],
                }
            )

    # -- kernel events ---------------------------------------------------------------
    def _watched(self) -> set[str]:
        names = {self.ns(NamespaceKind.QROUTER, r) for r in self._qrouters}
        names |= {self.ns(NamespaceKind.SNAT, r) for r in self._snats}
        names |= {self.ns(NamespaceKind.FIP, e) for e in self._fip_users()}
        names.add(self.options.host_netns or HOST)
        return names

    async def _sync_watch(self) -> None:
        if self._started:
            await self._watch.sync(self._watched())

    def _on_loss(self, namespace: str) -> None:
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._repair(namespace))

    async def _repair(self, namespace: str) -> None:
        await asyncio.sleep(DEBOUNCE_S)
        try:
            changes = await self.reconcile()
        except Exception as exc:  # retried on the next event or ensure
            log.warning("dvr: repair after a loss in %s failed: %s", namespace or "host", exc)
            return
        if changes:
            report = f"re-created after a kernel event: {', '.join(changes)}"
            log.warning("dvr: %s", report)
            if self._on_repair is not None:
                self._on_repair(report)
