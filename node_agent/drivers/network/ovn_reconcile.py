"""Reconciliation: make OVN northbound match what the database intends.

A pass takes the intent (SyncNetwork: every network, security group, port, router and
floating IP the database holds) and, kind by kind:
- ensures each intended object, one transaction each; an object whose rows were missing is
  reported `created`, one whose rows differed (the transaction wrote something) `updated`;
- removes the orphans: rows carrying skymesh external_ids for an object the intent does not
  have (`removed`), dependents first (floating IPs, routers, ports, groups, networks).
Rows without skymesh external_ids are never touched. A failure on one object is reported
(`failed`) and the pass goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

from node_agent.drivers.errors import DriverError
from node_agent.drivers.network import ovn_acls, ovn_ports, ovn_routers, ovn_switches
from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.ovn_idl import NbConnection, Tx
from schemas.messages.agent_network import Drift, SyncNetwork, SyncNetworkReply

Kind = Literal["network", "security_group", "port", "router", "floating_ip", "dhcp_options"]


def snapshot(tx: Tx) -> dict[Kind, set[str]]:
    """The ids of the objects skymesh has in NB, per kind."""
    owned_lsps = tx.find("Logical_Switch_Port", **{names.OWNER: "port"})
    return {
        "network": {
            r.external_ids[names.NETWORK_ID]
            for r in tx.find("Logical_Switch", **{names.OWNER: "network"})
        },
        "security_group": {
            r.external_ids[names.SECURITY_GROUP_ID]
            for r in tx.rows("Port_Group")
            if names.SECURITY_GROUP_ID in r.external_ids
        },
        "port": {r.name for r in owned_lsps},
        "router": {
            r.external_ids[names.ROUTER_ID]
            for r in tx.rows("Logical_Router")
            if names.ROUTER_ID in r.external_ids
        },
        "floating_ip": {
            r.external_ids[names.FIP_ID] for r in tx.rows("NAT") if names.FIP_ID in r.external_ids
        },
        "dhcp_options": {
            r.external_ids.get(names.NETWORK_ID, "")
            for r in tx.rows("DHCP_Options")
            if names.SUBNET_ID in r.external_ids
        },
    }


class _Pass:
    def __init__(self, nb: NbConnection, before: dict[Kind, set[str]]) -> None:
        self.nb, self.before = nb, before
        self.drift: list[Drift] = []

    async def ensure(self, kind: Kind, resource_id: str, fn: Callable[[Tx], Any]) -> None:
        def run(tx: Tx) -> int:
            fn(tx)
            return tx.changes

        try:
            changes = await self.nb.apply(run)
        except DriverError as exc:
            reason = str(exc)[:2048] or type(exc).__name__
            self.drift.append(
                Drift(kind=kind, action="failed", resource_id=resource_id, reason=reason)
            )
            return
        if resource_id not in self.before[kind]:
            self.drift.append(Drift(kind=kind, action="created", resource_id=resource_id))
        elif changes:
            self.drift.append(Drift(kind=kind, action="updated", resource_id=resource_id))

    async def remove(self, kind: Kind, resource_id: str, fn: Callable[[Tx], bool]) -> None:
        if await self.nb.apply(fn):
            self.drift.append(Drift(kind=kind, action="removed", resource_id=resource_id))


async def reconcile(
    nb: NbConnection, intent: SyncNetwork, gateway_chassis: tuple[str, ...]
) -> SyncNetworkReply:
    before = await nb.read(snapshot)
    run = _Pass(nb, before)
    for net in intent.networks:
        await run.ensure("network", str(net.network.id), _bind(ovn_switches.ensure_switch, net))
    for sg in intent.security_groups:
        group = sg.security_group
        await run.ensure("security_group", str(group.id), _bind(ovn_acls.ensure_port_group, group))
    for port in intent.ports:
        await run.ensure(
            "port", str(port.port.id), _bind(ovn_ports.ensure_lsp, port, gateway_chassis)
        )
    for router in intent.routers:
        await run.ensure(
            "router",
            str(router.router.id),
            _bind(ovn_routers.ensure_router, router, gateway_chassis),
        )
    for fip in intent.floating_ips:
        await run.ensure(
            "floating_ip", str(fip.floating_ip.id), _bind(ovn_routers.ensure_floating_ip, fip)
        )
    await _remove_orphans(run, intent, before)
    return SyncNetworkReply(drift=tuple(run.drift))


async def _remove_orphans(run: _Pass, intent: SyncNetwork, before: dict[Kind, set[str]]) -> None:
    wanted = {
        "network": {str(n.network.id) for n in intent.networks},
        "security_group": {str(s.security_group.id) for s in intent.security_groups},
        "port": {str(p.port.id) for p in intent.ports},
        "router": {str(r.router.id) for r in intent.routers},
        "floating_ip": {str(f.floating_ip.id) for f in intent.floating_ips},
    }
    for fip in sorted(before["floating_ip"] - wanted["floating_ip"]):
        await run.remove("floating_ip", fip, _bind(ovn_routers.delete_floating_ip, _uuid(fip)))
    for router in sorted(before["router"] - wanted["router"]):
        await run.remove("router", router, _bind(ovn_routers.delete_router, _uuid(router)))
    for peer in await run.nb.apply(_bind(_orphan_peers, wanted["router"])):
        run.drift.append(Drift(kind="port", action="removed", resource_id=peer))
    for port in sorted(before["port"] - wanted["port"]):
        await run.remove("port", port, _bind(ovn_ports.delete_lsp, _uuid(port)))
    for sg in sorted(before["security_group"] - wanted["security_group"]):
        await run.remove("security_group", sg, _bind(ovn_acls.delete_port_group, _uuid(sg)))
    for net in sorted(before["network"] - wanted["network"]):
        await run.remove("network", net, _bind(ovn_switches.delete_switch, _uuid(net)))
    for net in sorted(before["dhcp_options"] - wanted["network"] - before["network"]):
        await run.remove("dhcp_options", net or "-", _bind(_orphan_dhcp, net))


def _orphan_peers(tx: Tx, routers: set[str]) -> list[str]:
    """Remove the router-owned switch ports whose router the intent does not have."""
    found = []
    for lsp in tx.find("Logical_Switch_Port", **{names.OWNER: "router"}):
        if lsp.external_ids.get(names.ROUTER_ID) not in routers:
            switch = ovn_ports.switch_of(tx, lsp)
            if switch is not None:
                tx.drop_ref(switch, "ports", lsp)
                found.append(str(lsp.name))
    return found


def _orphan_dhcp(tx: Tx, network_id: str) -> bool:
    rows = tx.find("DHCP_Options", **{names.NETWORK_ID: network_id})
    for row in rows:
        tx.delete(row)
    return bool(rows)


def _uuid(value: str) -> UUID:
    return UUID(value)


def _bind(fn: Callable[..., Any], *args: Any) -> Callable[[Tx], Any]:
    return lambda tx: fn(tx, *args)
