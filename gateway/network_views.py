"""Network v2.0 resources in Neutron's shapes: every resource shows `project_id` and
`tenant_id`, `tags`, `created_at`/`updated_at` and `revision_number`; extension
attributes keep their Neutron names (`router:external`, `binding:host_id`, ...).

`?fields=a&fields=b` keeps only those attributes, as Neutron does.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.http import iso
from schemas.network import Network, Port, Subnet
from schemas.router import FloatingIp, Router
from schemas.security_group import SecurityGroup, SecurityGroupRule

AVAILABILITY_ZONE = "nova"


def _standard(resource: Any, *, tags: bool = True) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "created_at": iso(resource.created_at),
        "updated_at": iso(resource.updated_at),
        "revision_number": resource.revision_number,
    }
    if tags:
        shown["tags"] = []
    return shown


def _owned(project_id: Any) -> dict[str, Any]:
    return {"project_id": str(project_id), "tenant_id": str(project_id)}


def network(n: Network, *, admin: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": str(n.id),
        "name": n.name,
        "description": n.description,
        **_owned(n.project_id),
        "status": str(n.status),
        "admin_state_up": n.admin_state_up,
        "shared": n.shared,
        "router:external": n.external,
        "mtu": n.mtu,
        "port_security_enabled": n.port_security_enabled,
        "subnets": [str(s) for s in n.subnet_ids],
        "availability_zone_hints": list(n.availability_zone_hints),
        "availability_zones": [AVAILABILITY_ZONE],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "l2_adjacency": True,
        **_standard(n),
    }
    if n.external:
        shown["is_default"] = False
    if admin:  # Neutron shows the provider attributes to admins only
        shown["provider:network_type"] = str(n.network_type)
        shown["provider:physical_network"] = n.physical_network
        shown["provider:segmentation_id"] = n.segmentation_id
    return shown


def subnet(s: Subnet) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "name": s.name,
        "description": s.description,
        "network_id": str(s.network_id),
        **_owned(s.project_id),
        "ip_version": s.ip_version,
        "cidr": s.cidr,
        "gateway_ip": s.gateway_ip,
        "allocation_pools": [{"start": p.start, "end": p.end} for p in s.allocation_pools],
        "host_routes": [
            {"destination": r.destination, "nexthop": r.nexthop} for r in s.host_routes
        ],
        "dns_nameservers": list(s.dns_nameservers),
        "enable_dhcp": s.enable_dhcp,
        "ipv6_ra_mode": s.ipv6_ra_mode,
        "ipv6_address_mode": s.ipv6_address_mode,
        "subnetpool_id": None,
        "service_types": [],
        "segment_id": None,
        **_standard(s),
    }


def port(p: Port) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "name": p.name,
        "description": p.description,
        "network_id": str(p.network_id),
        **_owned(p.project_id),
        "mac_address": p.mac_address,
        "admin_state_up": p.admin_state_up,
        "status": str(p.status),
        "device_id": p.device_id,
        "device_owner": p.device_owner,
        "fixed_ips": [
            {"subnet_id": str(f.subnet_id), "ip_address": f.ip_address} for f in p.fixed_ips
        ],
        "security_groups": [str(g) for g in p.security_group_ids],
        "port_security_enabled": p.port_security_enabled,
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "binding:vnic_type": str(p.vnic_type),
        "binding:host_id": p.binding_host or "",
        "binding:vif_type": str(p.vif_type),
        "binding:vif_details": {},
        "binding:profile": {},
        **_standard(p),
    }


def rule(r: SecurityGroupRule) -> dict[str, Any]:
    project = r.project_id
    return {
        "id": str(r.id),
        "security_group_id": str(r.security_group_id),
        **_owned(project),
        "direction": str(r.direction),
        "ethertype": str(r.ethertype),
        "protocol": r.protocol,
        "port_range_min": r.port_range_min,
        "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix,
        "remote_group_id": str(r.remote_group_id) if r.remote_group_id else None,
        "remote_address_group_id": None,
        "normalized_cidr": r.remote_ip_prefix,
        "description": r.description,
        "belongs_to_default_sg": None,
        **_standard(r, tags=False),
    }


def security_group(g: SecurityGroup) -> dict[str, Any]:
    return {
        "id": str(g.id),
        "name": g.name,
        "description": g.description,
        **_owned(g.project_id),
        "stateful": g.stateful,
        "shared": False,
        "security_group_rules": [rule(r) for r in g.rules],
        **_standard(g),
    }


def router(r: Router) -> dict[str, Any]:
    gateway = None
    if r.external_gateway is not None:
        gateway = {
            "network_id": str(r.external_gateway.network_id),
            "enable_snat": r.external_gateway.enable_snat,
            "external_fixed_ips": [
                {"subnet_id": str(f.subnet_id), "ip_address": f.ip_address}
                for f in r.external_gateway.external_fixed_ips
            ],
        }
    return {
        "id": str(r.id),
        "name": r.name,
        "description": r.description,
        **_owned(r.project_id),
        "status": str(r.status),
        "admin_state_up": r.admin_state_up,
        "external_gateway_info": gateway,
        "routes": [],
        "availability_zone_hints": [],
        "availability_zones": [AVAILABILITY_ZONE],
        "flavor_id": None,
        **_standard(r),
    }


def floating_ip(f: FloatingIp) -> dict[str, Any]:
    return {
        "id": str(f.id),
        "floating_ip_address": f.floating_ip_address,
        "floating_network_id": str(f.floating_network_id),
        "router_id": str(f.router_id) if f.router_id else None,
        "port_id": str(f.port_id) if f.port_id else None,
        "fixed_ip_address": f.fixed_ip_address,
        "status": str(f.status),
        "description": f.description,
        **_owned(f.project_id),
        "qos_policy_id": None,
        "port_forwardings": [],
        **_standard(f),
    }


def only_fields(request: web.Request, shown: dict[str, Any]) -> dict[str, Any]:
    """The attributes `?fields=` asks for (all without it)."""
    wanted = request.query.getall("fields", [])
    if not wanted:
        return shown
    return {k: v for k, v in shown.items() if k in wanted}
