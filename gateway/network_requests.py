"""Network v2.0 request bodies and list filters.

Bodies use Neutron's attribute names (aliases for `router:external`, `binding:host_id`,
...). Unknown attributes are refused (400), as Neutron refuses them; attributes of
extensions skymesh does not implement are accepted only with their "off" value (None,
false, empty), so clients that always send them keep working. Read-only attributes
(`id`, `status`, ...) in a body are refused.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import bad_request, not_found
from gateway.http import body, caller, parse, wrapped


class NeutronBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def check_unsupported(self) -> None:
        """Fields named `x_*` are extensions skymesh does not implement."""
        for name in type(self).model_fields:
            if name.startswith("x_") and getattr(self, name) not in (None, False, [], "", {}):
                alias = type(self).model_fields[name].alias or name
                raise bad_request(f"attribute {alias!r} is not supported by this cloud")

    def changes(self) -> tuple[str, ...]:
        """The attributes the body sets (message field names), for updates."""
        return tuple(n for n in self.model_fields_set if not n.startswith("x_"))


class NetworkBody(NeutronBody):
    name: str = Field("", max_length=255)
    description: str = Field("", max_length=255)
    admin_state_up: bool = True
    shared: bool = False
    external: bool = Field(False, alias="router:external")
    port_security_enabled: bool = True
    mtu: int = Field(1442, ge=68, le=9216)
    project_id: UUID | None = None
    tenant_id: UUID | None = None
    availability_zone_hints: list[str] = Field(default_factory=list, max_length=0)
    x_is_default: bool | None = Field(None, alias="is_default")
    x_network_type: str | None = Field(None, alias="provider:network_type")
    x_physical_network: str | None = Field(None, alias="provider:physical_network")
    x_segmentation_id: int | None = Field(None, alias="provider:segmentation_id")
    x_qos_policy_id: str | None = Field(None, alias="qos_policy_id")
    x_dns_domain: str | None = Field(None, alias="dns_domain")


class SubnetBody(NeutronBody):
    network_id: UUID | None = None
    cidr: str | None = None
    ip_version: int = 4
    name: str = Field("", max_length=255)
    description: str = Field("", max_length=255)
    gateway_ip: str | None = "auto"
    allocation_pools: list[dict[str, Any]] = Field(default_factory=list)
    enable_dhcp: bool = True
    dns_nameservers: list[str] = Field(default_factory=list)
    host_routes: list[dict[str, Any]] = Field(default_factory=list)
    project_id: UUID | None = None
    tenant_id: UUID | None = None
    x_ipv6_ra_mode: str | None = Field(None, alias="ipv6_ra_mode")
    x_ipv6_address_mode: str | None = Field(None, alias="ipv6_address_mode")
    x_subnetpool_id: str | None = Field(None, alias="subnetpool_id")
    x_use_default_subnet_pool: bool | None = Field(None, alias="use_default_subnet_pool")
    x_prefixlen: int | None = Field(None, alias="prefixlen")
    x_segment_id: str | None = Field(None, alias="segment_id")
    x_service_types: list[str] | None = Field(None, alias="service_types")
    x_dns_publish_fixed_ip: bool | None = Field(None, alias="dns_publish_fixed_ip")


class FixedIpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subnet_id: UUID | None = None
    ip_address: str | None = None


class PortBody(NeutronBody):
    network_id: UUID | None = None
    name: str = Field("", max_length=255)
    description: str = Field("", max_length=255)
    admin_state_up: bool = True
    mac_address: str | None = None
    fixed_ips: list[FixedIpBody] | None = None
    security_groups: list[UUID] | None = None
    port_security_enabled: bool | None = None
    vnic_type: str = Field("normal", alias="binding:vnic_type")
    binding_host: str | None = Field(None, alias="binding:host_id")
    device_id: str = Field("", max_length=255)
    device_owner: str = Field("", max_length=255)
    project_id: UUID | None = None
    tenant_id: UUID | None = None
    x_profile: dict[str, Any] | None = Field(None, alias="binding:profile")
    x_allowed_address_pairs: list[Any] | None = Field(None, alias="allowed_address_pairs")
    x_extra_dhcp_opts: list[Any] | None = Field(None, alias="extra_dhcp_opts")
    x_qos_policy_id: str | None = Field(None, alias="qos_policy_id")
    x_dns_name: str | None = Field(None, alias="dns_name")
    x_dns_domain: str | None = Field(None, alias="dns_domain")
    x_numa_affinity_policy: str | None = Field(None, alias="numa_affinity_policy")
    x_propagate_uplink_status: bool | None = Field(None, alias="propagate_uplink_status")


class SecurityGroupBody(NeutronBody):
    name: str = Field("", max_length=255)
    description: str = Field("", max_length=255)
    stateful: bool = True
    project_id: UUID | None = None
    tenant_id: UUID | None = None


class RuleBody(NeutronBody):
    security_group_id: UUID
    direction: str
    ethertype: str = "IPv4"
    protocol: str | int | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: UUID | None = None
    description: str = Field("", max_length=255)
    project_id: UUID | None = None
    tenant_id: UUID | None = None
    x_remote_address_group_id: str | None = Field(None, alias="remote_address_group_id")


class GatewayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network_id: UUID
    enable_snat: bool = True
    external_fixed_ips: list[FixedIpBody] = Field(default_factory=list)
    qos_policy_id: None = None


class RouterBody(NeutronBody):
    name: str = Field("", max_length=255)
    description: str = Field("", max_length=255)
    admin_state_up: bool = True
    external_gateway_info: GatewayBody | None = None
    project_id: UUID | None = None
    tenant_id: UUID | None = None
    availability_zone_hints: list[str] = Field(default_factory=list, max_length=0)
    routes: list[Any] = Field(default_factory=list, max_length=0)
    x_distributed: bool | None = Field(None, alias="distributed")
    x_ha: bool | None = Field(None, alias="ha")
    x_flavor_id: str | None = Field(None, alias="flavor_id")


class FloatingIpBody(NeutronBody):
    floating_network_id: UUID | None = None
    floating_ip_address: str | None = None
    port_id: UUID | None = None
    fixed_ip_address: str | None = None
    description: str = Field("", max_length=255)
    project_id: UUID | None = None
    tenant_id: UUID | None = None
    x_subnet_id: str | None = Field(None, alias="subnet_id")
    x_qos_policy_id: str | None = Field(None, alias="qos_policy_id")
    x_dns_name: str | None = Field(None, alias="dns_name")
    x_dns_domain: str | None = Field(None, alias="dns_domain")


class RouterInterfaceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subnet_id: UUID | None = None
    port_id: UUID | None = None


class QuotaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quota: dict[str, int]


async def resource_body(request: web.Request, key: str, model: type[NeutronBody]) -> NeutronBody:
    """`{key: {...}}` parsed as `model`, unsupported extensions refused."""
    inner = wrapped(await body(request), key)
    parsed = parse(model, inner, key)
    parsed.check_unsupported()
    return parsed


def project_for(parsed: Any) -> UUID | None:
    """`project_id` or its older name `tenant_id` (they must agree when both are given)."""
    project, tenant = parsed.project_id, parsed.tenant_id
    if project and tenant and project != tenant:
        raise bad_request("project_id and tenant_id do not match")
    return project or tenant


def query_bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise bad_request(f"Invalid input for {name}. Reason: '{raw}' is not a valid boolean value.")


def query_ids(request: web.Request, name: str = "id") -> tuple[UUID, ...]:
    try:
        return tuple(UUID(v) for v in request.query.getall(name, []))
    except ValueError:
        return (UUID(int=0),)  # matches nothing, as Neutron answers an unknown id


def query_project(request: web.Request) -> UUID | None:
    raw = request.query.get("project_id", request.query.get("tenant_id"))
    if raw is None:
        return None
    try:
        return UUID(raw)
    except ValueError:
        return UUID(int=0)


def query_text(request: web.Request, name: str) -> str | None:
    return request.query.get(name)


def is_admin(request: web.Request) -> bool:
    return caller(request).is_admin


NOT_FOUND_KINDS = {
    "Network": "NetworkNotFound",
    "Subnet": "SubnetNotFound",
    "Port": "PortNotFound",
    "Router": "RouterNotFound",
    "Floating IP": "FloatingIPNotFound",
    "Security group": "SecurityGroupNotFound",
    "Security group rule": "SecurityGroupRuleNotFound",
}


def path_id(request: web.Request, name: str, what: str) -> UUID:
    """A UUID path parameter; anything else (a name, as clients try first) is a clean
    404 of Neutron's type for the resource."""
    raw = request.match_info[name]
    try:
        return UUID(raw)
    except ValueError:
        raise not_found(
            f"{what} {raw} could not be found.", kind=NOT_FOUND_KINDS.get(what)
        ) from None
