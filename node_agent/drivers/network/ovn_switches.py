"""Networks as OVN logical switches, subnets as OVN native DHCP_Options.

A network is one Logical_Switch (`skymesh-<id>`). Its subnets are remembered on the switch
(`skymesh:subnet:<id>` = "<cidr> <gateway>") so routers can size their gateway ports, and a
subnet with DHCP gets a DHCP_Options row that its ports point at: ovn-controller then
answers DHCP itself (router, lease_time, server_id, server_mac, dns_server, mtu,
classless_static_route). A provider network (flat / vlan) gets a localnet port naming its
physical network; each chassis's `ovn-bridge-mappings` says which bridge that is.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from uuid import UUID

from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.ovn_idl import Row, Tx
from schemas.messages.agent_network import EnsureNetwork
from schemas.network import Network, NetworkType, Subnet

LEASE_TIME = "43200"


def find_switch(tx: Tx, network_id: UUID | str) -> Row | None:
    return tx.one("Logical_Switch", **{names.NETWORK_ID: str(network_id)})


def subnet_info(tx: Tx, subnet_id: UUID | str) -> tuple[str, str] | None:
    """(cidr, gateway or '') of a subnet some switch carries, None when unknown."""
    key = names.SUBNET_PREFIX + str(subnet_id)
    for row in tx.find("Logical_Switch"):
        if key in row.external_ids:
            cidr, _, gateway = row.external_ids[key].partition(" ")
            return cidr, gateway
    return None


def dhcp_options(subnet: Subnet, network: Network) -> dict[str, str]:
    """The DHCP_Options.options of a subnet (IPv4 or IPv6)."""
    net = ipaddress.ip_network(subnet.cidr)
    server_mac = names.derived_mac(subnet.id)
    if subnet.ip_version == 6:
        options = {"server_id": server_mac}
        if subnet.ipv6_address_mode and subnet.ipv6_address_mode.value == "dhcpv6-stateless":
            options["dhcpv6_stateless"] = "true"
        if subnet.dns_nameservers:
            options["dns_server"] = "{" + ", ".join(subnet.dns_nameservers) + "}"
        return options
    server_id = subnet.gateway_ip or str(next(net.hosts()))
    options = {
        "lease_time": LEASE_TIME,
        "server_id": server_id,
        "server_mac": server_mac,
        "mtu": str(network.mtu),
    }
    if subnet.gateway_ip:
        options["router"] = subnet.gateway_ip
    if subnet.dns_nameservers:
        options["dns_server"] = "{" + ", ".join(subnet.dns_nameservers) + "}"
    if subnet.host_routes:
        routes = [f"{r.destination},{r.nexthop}" for r in subnet.host_routes]
        if subnet.gateway_ip:  # classless routes replace the router option: keep the default
            routes.append(f"0.0.0.0/0,{subnet.gateway_ip}")
        options["classless_static_route"] = "{" + ", ".join(routes) + "}"
    return options


def ensure_switch(tx: Tx, req: EnsureNetwork) -> Row:
    network = req.network
    external_ids = {
        names.NETWORK_ID: str(network.id),
        names.NETWORK_NAME: network.name,
        names.OWNER: "network",
        "skymesh:mtu": str(network.mtu),
    }
    for subnet in req.subnets:
        external_ids[names.SUBNET_PREFIX + str(subnet.id)] = (
            f"{subnet.cidr} {subnet.gateway_ip or ''}".strip()
        )
    row = find_switch(tx, network.id)
    if row is None:
        row = tx.insert("Logical_Switch", name=names.switch(network.id))
    tx.set(row, name=names.switch(network.id), external_ids=external_ids)
    _ensure_localnet(tx, row, network)
    _ensure_dhcp(tx, req)
    return row


def _ensure_localnet(tx: Tx, switch: Row, network: Network) -> None:
    name = names.localnet(network.id)
    current = next((p for p in switch.ports if p.name == name), None)
    provider = network.network_type in (NetworkType.FLAT, NetworkType.VLAN)
    if not provider:
        if current is not None:
            tx.drop_ref(switch, "ports", current)
        return
    columns: dict[str, Any] = {
        "type": "localnet",
        "addresses": ["unknown"],
        "options": {"network_name": network.physical_network or ""},
        "tag": [network.segmentation_id] if network.network_type is NetworkType.VLAN else [],
        "external_ids": {names.NETWORK_ID: str(network.id), names.OWNER: "network"},
    }
    if current is None:
        current = tx.insert("Logical_Switch_Port", name=name)
        tx.add_ref(switch, "ports", current)
    tx.set(current, **columns)


def _ensure_dhcp(tx: Tx, req: EnsureNetwork) -> None:
    wanted = {str(s.id): s for s in req.subnets if s.enable_dhcp}
    for row in tx.find("DHCP_Options", **{names.NETWORK_ID: str(req.network.id)}):
        if row.external_ids.get(names.SUBNET_ID) not in wanted:
            tx.delete(row)
    for subnet_id, subnet in wanted.items():
        row = tx.one("DHCP_Options", **{names.SUBNET_ID: subnet_id})
        if row is None:
            row = tx.insert("DHCP_Options")
        tx.set(
            row,
            cidr=str(ipaddress.ip_network(subnet.cidr)),
            options=dhcp_options(subnet, req.network),
            external_ids={
                names.SUBNET_ID: subnet_id,
                names.NETWORK_ID: str(req.network.id),
            },
        )


def delete_switch(tx: Tx, network_id: UUID) -> bool:
    row = find_switch(tx, network_id)
    for dhcp in tx.find("DHCP_Options", **{names.NETWORK_ID: str(network_id)}):
        tx.delete(dhcp)
    if row is None:
        return False
    release_shared(tx, {port.uuid for port in row.ports})
    tx.delete(row)
    return True


def release_shared(tx: Tx, leaving: set[Any]) -> None:
    """Delete the shared rows (the drop group, the external ports' HA chassis group) that
    only the switch ports in `leaving` (their row UUIDs) still use."""
    for group in tx.rows("Port_Group"):
        if group.name == names.DROP_GROUP and {p.uuid for p in group.ports} <= leaving:
            tx.delete(group)
    for ha in tx.rows("HA_Chassis_Group"):
        if ha.external_ids.get(names.OWNER) != "port":
            continue
        users = [
            lsp
            for lsp in tx.rows("Logical_Switch_Port")
            if any(ref.uuid == ha.uuid for ref in lsp.ha_chassis_group)
        ]
        if {lsp.uuid for lsp in users} <= leaving:
            for lsp in users:  # a strong reference, checked before the ports are collected
                tx.set(lsp, ha_chassis_group=[])
            tx.delete(ha)


def dhcp_row(tx: Tx, subnet_id: UUID | str) -> Row | None:
    return tx.one("DHCP_Options", **{names.SUBNET_ID: str(subnet_id)})
