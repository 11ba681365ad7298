"""Routers as OVN logical routers; SNAT and floating IPs as NAT rows.

A router is a Logical_Router `skymesh-<id>`. Each interface is a router port `lrp-<port id>`
holding the subnet's gateway address, peered with a `router` LSP on the subnet's switch. The
external gateway is a distributed gateway port: its Gateway_Chassis rows name the chassis
(highest priority first) that host the centralised part (SNAT, ARP for the router's external
address); a default route points at the external subnet's gateway, and with `enable_snat`
every IPv4 interface subnet gets an `snat` NAT row to the gateway address.

A floating IP is a `dnat_and_snat` NAT row. With `logical_port` and `external_mac` it is
distributed: the VM's own chassis answers ARP for it and NATs its traffic through its own
localnet port (bridge mapping), so it never crosses the gateway chassis. Without
`external_mac` (the port is not up yet) it is centralised on the gateway chassis.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import NotFoundError
from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.ovn_idl import Row, Tx
from node_agent.drivers.network.ovn_ports import find_port, switch_of
from node_agent.drivers.network.ovn_switches import find_switch
from schemas.messages.agent_network import EnsureFloatingIp, EnsureRouter
from schemas.types import ip_version


def find_router(tx: Tx, router_id: UUID | str) -> Row | None:
    return tx.one("Logical_Router", **{names.ROUTER_ID: str(router_id)})


def _subnet(tx: Tx, req: EnsureRouter, subnet_id: UUID) -> tuple[Row, str, str]:
    """(switch, cidr, gateway) of a subnet: from the request, else from its switch."""
    for subnet in req.subnets:
        if subnet.id == subnet_id:
            switch = find_switch(tx, subnet.network_id)
            if switch is None:
                raise NotFoundError(f"network {subnet.network_id} has no logical switch")
            return switch, subnet.cidr, subnet.gateway_ip or ""
    key = names.SUBNET_PREFIX + str(subnet_id)
    for switch in tx.find("Logical_Switch"):
        if key in switch.external_ids:
            cidr, _, gateway = switch.external_ids[key].partition(" ")
            return switch, cidr, gateway
    raise NotFoundError(f"subnet {subnet_id} is on no logical switch")


def _mac(tx: Tx, port_id: UUID | str) -> str:
    """The MAC of the port's own LSP when it has one, else one derived from its id."""
    lsp = find_port(tx, port_id)
    if lsp is not None:
        for entry in lsp.addresses:
            first = entry.split()[0] if entry.split() else ""
            if first.count(":") == 5:
                return str(first)
    return names.derived_mac(port_id)


def ensure_router(tx: Tx, req: EnsureRouter, gateway_chassis: tuple[str, ...]) -> Row:
    router = req.router
    lr = find_router(tx, router.id)
    if lr is None:
        lr = tx.insert("Logical_Router", name=names.router(router.id))
    tx.set(
        lr,
        name=names.router(router.id),
        enabled=[router.admin_state_up],
        external_ids={
            names.ROUTER_ID: str(router.id),
            "skymesh:router_name": router.name,
            names.OWNER: "router",
        },
    )
    ports: dict[str, dict[str, Any]] = {}  # lrp name -> columns and its peer's switch
    snat: set[tuple[str, str]] = set()
    routes: set[tuple[str, str]] = {(r.destination, r.nexthop) for r in router.routes}
    v4_cidrs = []
    for itf in router.interfaces:
        switch, cidr, _ = _subnet(tx, req, itf.subnet_id)
        net = ipaddress.ip_network(cidr)
        ports[names.router_port(itf.port_id)] = {
            "port_id": str(itf.port_id),
            "switch": switch,
            "mac": _mac(tx, itf.port_id),
            "networks": [f"{itf.ip_address}/{net.prefixlen}"],
            "chassis": (),
        }
        if net.version == 4:
            v4_cidrs.append(str(net))
    gateway = router.external_gateway
    if gateway is not None:
        ext_switch = find_switch(tx, gateway.network_id)
        if ext_switch is None:
            raise NotFoundError(f"network {gateway.network_id} has no logical switch")
        gw_port = str(gateway.port_id or f"gw-{router.id}")
        networks, external_ip = [], ""
        for fixed in gateway.external_fixed_ips:
            _, cidr, nexthop = _subnet(tx, req, fixed.subnet_id)
            networks.append(f"{fixed.ip_address}/{ipaddress.ip_network(cidr).prefixlen}")
            if ip_version(fixed.ip_address) == 4 and not external_ip:
                external_ip = fixed.ip_address
                if nexthop:
                    routes.add(("0.0.0.0/0", nexthop))
        ports[names.router_port(gw_port)] = {
            "port_id": gw_port,
            "switch": ext_switch,
            "mac": _mac(tx, gw_port),
            "networks": networks,
            "chassis": gateway_chassis,
        }
        if gateway.enable_snat and external_ip:
            snat = {(cidr, external_ip) for cidr in v4_cidrs}
    _sync_ports(tx, lr, router.id, ports)
    _sync_routes(tx, lr, router.id, routes)
    _sync_snat(tx, lr, router.id, snat)
    return lr


def _sync_ports(tx: Tx, lr: Row, router_id: UUID, ports: dict[str, dict[str, Any]]) -> None:
    for lrp in list(lr.ports):
        if lrp.name not in ports:
            _drop_peer(tx, lrp.name)
            tx.drop_ref(lr, "ports", lrp)
    have = {lrp.name: lrp for lrp in lr.ports}
    for name, spec in ports.items():
        lrp = have.get(name)
        if lrp is None:
            lrp = tx.insert("Logical_Router_Port", name=name)
            tx.add_ref(lr, "ports", lrp)
        tx.set(
            lrp,
            mac=spec["mac"],
            networks=spec["networks"],
            external_ids={names.ROUTER_ID: str(router_id), names.PORT_ID: spec["port_id"]},
        )
        _sync_gateway_chassis(tx, lrp, spec["chassis"])
        _ensure_peer(tx, spec["switch"], spec["port_id"], name, router_id, bool(spec["chassis"]))


def _sync_gateway_chassis(tx: Tx, lrp: Row, chassis: tuple[str, ...]) -> None:
    have = {gc.chassis_name: gc for gc in lrp.gateway_chassis}
    for name, gc in have.items():
        if name not in chassis:
            tx.drop_ref(lrp, "gateway_chassis", gc)
    for priority, name in zip(range(len(chassis), 0, -1), chassis, strict=False):
        gc = have.get(name)
        if gc is None:
            gc = tx.insert("Gateway_Chassis", name=f"{lrp.name}_{name}", chassis_name=name)
            tx.add_ref(lrp, "gateway_chassis", gc)
        tx.set(gc, priority=priority)


def _ensure_peer(
    tx: Tx, switch: Row, port_id: str, lrp_name: str, router_id: UUID, gateway: bool
) -> None:
    lsp = find_port(tx, port_id)
    if lsp is not None:
        current = switch_of(tx, lsp)
        if current is not None and current.uuid != switch.uuid:
            tx.drop_ref(current, "ports", lsp)
            lsp = None
    if lsp is None:
        lsp = tx.insert("Logical_Switch_Port", name=port_id)
        tx.add_ref(switch, "ports", lsp)
    options = {"router-port": lrp_name}
    if gateway:
        options["nat-addresses"] = "router"
    tx.set(
        lsp,
        type="router",
        addresses=["router"],
        port_security=[],
        options=options,
        external_ids={
            names.PORT_ID: port_id,
            names.NETWORK_ID: switch.external_ids.get(names.NETWORK_ID, ""),
            names.ROUTER_ID: str(router_id),
            names.OWNER: "router",
            names.DEVICE_OWNER: names.ROUTER_OWNERS[1 if gateway else 0],
        },
    )


def _drop_peer(tx: Tx, lrp_name: str) -> None:
    for lsp in tx.find("Logical_Switch_Port", **{names.OWNER: "router"}):
        if lsp.options.get("router-port") == lrp_name:
            switch = switch_of(tx, lsp)
            if switch is not None:
                tx.drop_ref(switch, "ports", lsp)


def _sync_routes(tx: Tx, lr: Row, router_id: UUID, routes: set[tuple[str, str]]) -> None:
    have: set[tuple[str, str]] = set()
    for route in list(lr.static_routes):
        key = (route.ip_prefix, route.nexthop)
        if key not in routes or key in have:
            tx.drop_ref(lr, "static_routes", route)
        have.add(key)
    for prefix, nexthop in sorted(routes - have):
        route = tx.insert(
            "Logical_Router_Static_Route",
            ip_prefix=prefix,
            nexthop=nexthop,
            external_ids={names.ROUTER_ID: str(router_id)},
        )
        tx.add_ref(lr, "static_routes", route)


def _sync_snat(tx: Tx, lr: Row, router_id: UUID, snat: set[tuple[str, str]]) -> None:
    have: set[tuple[str, str]] = set()
    for nat in list(lr.nat):
        if nat.type != "snat":
            continue
        key = (nat.logical_ip, nat.external_ip)
        if key not in snat or key in have:
            tx.drop_ref(lr, "nat", nat)
        have.add(key)
    for logical_ip, external_ip in sorted(snat - have):
        nat = tx.insert(
            "NAT",
            type="snat",
            logical_ip=logical_ip,
            external_ip=external_ip,
            external_ids={names.ROUTER_ID: str(router_id)},
        )
        tx.add_ref(lr, "nat", nat)


def delete_router(tx: Tx, router_id: UUID) -> bool:
    lr = find_router(tx, router_id)
    if lr is None:
        return False
    for lrp in lr.ports:
        _drop_peer(tx, lrp.name)
    tx.delete(lr)
    return True


def _fip_rows(tx: Tx, floating_ip_id: UUID) -> list[tuple[Row, Row]]:
    """(router, NAT row) for every NAT row of the floating IP."""
    return [
        (lr, nat)
        for lr in tx.rows("Logical_Router")
        for nat in lr.nat
        if nat.external_ids.get(names.FIP_ID) == str(floating_ip_id)
    ]


def ensure_floating_ip(tx: Tx, req: EnsureFloatingIp) -> Row | None:
    fip = req.floating_ip
    found = _fip_rows(tx, fip.id)
    if fip.router_id is None or fip.port_id is None or fip.fixed_ip_address is None:
        for lr, nat in found:
            tx.drop_ref(lr, "nat", nat)
        return None
    lr = find_router(tx, fip.router_id)
    if lr is None:
        raise NotFoundError(f"router {fip.router_id} has no logical router")
    nat = None
    for owner, row in found:
        if owner.uuid == lr.uuid and nat is None:
            nat = row
        else:
            tx.drop_ref(owner, "nat", row)
    if nat is None:
        nat = tx.insert("NAT", type="dnat_and_snat")
        tx.add_ref(lr, "nat", nat)
    distributed = req.external_mac is not None
    tx.set(
        nat,
        type="dnat_and_snat",
        external_ip=fip.floating_ip_address,
        logical_ip=fip.fixed_ip_address,
        logical_port=[str(fip.port_id)] if distributed else [],
        external_mac=[req.external_mac] if distributed else [],
        external_ids={
            names.FIP_ID: str(fip.id),
            names.ROUTER_ID: str(fip.router_id),
            names.PORT_ID: str(fip.port_id),
        },
    )
    return nat


def delete_floating_ip(tx: Tx, floating_ip_id: UUID) -> bool:
    found = _fip_rows(tx, floating_ip_id)
    for lr, nat in found:
        tx.drop_ref(lr, "nat", nat)
    return bool(found)
