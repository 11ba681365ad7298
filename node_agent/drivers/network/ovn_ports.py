"""Ports as OVN logical switch ports.

The LSP's name is the port's UUID: the hypervisor's `external_ids:iface-id` on the VM's
interface names it, and ovn-controller on the chassis in `options:requested-chassis` binds it
(Port_Binding.chassis, then LSP `up=true`). Addresses are "MAC IP...", port security the
same plus the allowed address pairs. A port with port security joins the drop group and the
port groups of its security groups. `vnic_type` direct (SR-IOV) is an OVN `external` port:
its DHCP/ARP are answered by the chassis of its HA chassis group. Router-owned ports are
`router` LSPs peered with the router port `lrp-<id>`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from node_agent.drivers.errors import NotFoundError
from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.base import PortInfo
from node_agent.drivers.network.ovn_acls import ensure_drop_group, placeholder_group
from node_agent.drivers.network.ovn_idl import Row, Tx
from node_agent.drivers.network.ovn_switches import dhcp_row, find_switch, release_shared
from schemas.messages.agent_network import EnsurePort
from schemas.network import Port, PortStatus, VnicType
from schemas.types import ip_version

EXTERNAL_VNICS = (VnicType.DIRECT, VnicType.DIRECT_PHYSICAL, VnicType.MACVTAP)
HA_GROUP = "skymesh-external-ports"


def find_port(tx: Tx, port_id: UUID | str) -> Row | None:
    return tx.by_name("Logical_Switch_Port", str(port_id))


def switch_of(tx: Tx, lsp: Row) -> Row | None:
    return next(
        (ls for ls in tx.rows("Logical_Switch") if any(p.uuid == lsp.uuid for p in ls.ports)),
        None,
    )


def _addresses(port: Port) -> str:
    return " ".join([port.mac_address, *(f.ip_address for f in port.fixed_ips)])


def _port_security(port: Port) -> list[str]:
    if not port.port_security_enabled:
        return []
    entries = [_addresses(port)]
    for pair in port.allowed_address_pairs:
        entries.append(f"{pair.mac_address or port.mac_address} {pair.ip_address}")
    return entries


def _dhcp(tx: Tx, port: Port, version: int) -> list[Row]:
    for fixed in port.fixed_ips:
        if ip_version(fixed.ip_address) == version:
            row = dhcp_row(tx, fixed.subnet_id)
            if row is not None:
                return [row]
    return []


def ensure_ha_group(tx: Tx, chassis: tuple[str, ...]) -> Row:
    """The HA chassis group external ports are served from (the gateway chassis)."""
    group = tx.by_name("HA_Chassis_Group", HA_GROUP)
    if group is None:
        group = tx.insert("HA_Chassis_Group", name=HA_GROUP)
    tx.set(group, external_ids={names.OWNER: "port"})
    have = {member.chassis_name: member for member in group.ha_chassis}
    for name, member in have.items():
        if name not in chassis:
            tx.drop_ref(group, "ha_chassis", member)
    for priority, name in zip(range(len(chassis) * 10, 0, -10), chassis, strict=False):
        member = have.get(name)
        if member is None:
            member = tx.insert("HA_Chassis", chassis_name=name)
            tx.add_ref(group, "ha_chassis", member)
        tx.set(member, priority=priority)
    return group


def ensure_lsp(tx: Tx, req: EnsurePort, gateway_chassis: tuple[str, ...]) -> Row:
    port = req.port
    switch = find_switch(tx, port.network_id)
    if switch is None:
        raise NotFoundError(f"network {port.network_id} has no logical switch")
    lsp = find_port(tx, port.id)
    if lsp is not None:
        current = switch_of(tx, lsp)
        if current is not None and current.uuid != switch.uuid:  # moved: start afresh
            tx.drop_ref(current, "ports", lsp)
            lsp = None
    if lsp is None:
        lsp = tx.insert("Logical_Switch_Port", name=str(port.id))
        tx.add_ref(switch, "ports", lsp)
    external_ids = {
        names.PORT_ID: str(port.id),
        names.NETWORK_ID: str(port.network_id),
        names.DEVICE_ID: port.device_id,
        names.DEVICE_OWNER: port.device_owner,
        names.OWNER: "port",
        "skymesh:security_group_ids": ",".join(map(str, port.security_group_ids)),
    }
    columns: dict[str, Any] = {
        "addresses": [_addresses(port)],
        "port_security": _port_security(port),
        "enabled": [port.admin_state_up],
        "dhcpv4_options": _dhcp(tx, port, 4),
        "dhcpv6_options": _dhcp(tx, port, 6),
        "type": "",
        "options": {},
        "ha_chassis_group": [],
    }
    if port.device_owner in names.ROUTER_OWNERS:
        external_ids[names.OWNER] = "router"
        columns.update(
            type="router",
            addresses=["router"],
            port_security=[],
            dhcpv4_options=[],
            dhcpv6_options=[],
            options={"router-port": names.router_port(port.id)},
        )
    elif port.vnic_type in EXTERNAL_VNICS:
        columns.update(type="external", ha_chassis_group=[ensure_ha_group(tx, gateway_chassis)])
    elif req.requested_chassis:
        columns["options"] = {"requested-chassis": req.requested_chassis}
    columns["external_ids"] = external_ids
    tx.set(lsp, **columns)
    _ensure_groups(tx, lsp, port, columns["type"])
    return lsp


def _ensure_groups(tx: Tx, lsp: Row, port: Port, kind: str) -> None:
    secured = port.port_security_enabled and kind != "router"
    wanted = {names.port_group(sg) for sg in port.security_group_ids} if secured else set()
    if secured:
        wanted.add(names.DROP_GROUP)
        ensure_drop_group(tx)
    for sg in port.security_group_ids if secured else ():
        placeholder_group(tx, sg)
    for group in tx.rows("Port_Group"):
        if names.SECURITY_GROUP_ID not in group.external_ids and group.name != names.DROP_GROUP:
            continue  # not ours
        if group.name in wanted:
            tx.add_ref(group, "ports", lsp)
        else:
            tx.drop_ref(group, "ports", lsp)


def delete_lsp(tx: Tx, port_id: UUID) -> bool:
    lsp = find_port(tx, port_id)
    if lsp is None:
        return False
    release_shared(tx, {lsp.uuid})  # the last port using them: no shared rows left behind
    for group in tx.rows("Port_Group"):
        tx.drop_ref(group, "ports", lsp)
    switch = switch_of(tx, lsp)
    if switch is not None:
        tx.drop_ref(switch, "ports", lsp)
    else:
        tx.delete(lsp)
    return True


def port_info(lsp: Row) -> PortInfo:
    up = bool(lsp.up and lsp.up[0])
    return PortInfo(
        port_id=UUID(lsp.name),
        network_id=UUID(lsp.external_ids[names.NETWORK_ID]),
        status=PortStatus.ACTIVE if up else PortStatus.DOWN,
        chassis=lsp.options.get("requested-chassis"),
        device_id=lsp.external_ids.get(names.DEVICE_ID, ""),
    )


def list_port_infos(tx: Tx, owner: str = "port") -> list[PortInfo]:
    rows = tx.find("Logical_Switch_Port", **{names.OWNER: owner})
    return sorted((port_info(r) for r in rows), key=lambda p: str(p.port_id))
