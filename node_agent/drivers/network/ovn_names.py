"""How skymesh names and tags its OVN northbound rows.

Names follow Neutron's OVN driver so operators find their way: the logical switch port and
the `iface-id` a hypervisor sets on the VM's interface are the port's UUID, port groups are
`pg_<security group id with underscores>` (OVN derives the address sets `$pg_..._ip4/_ip6`
from them), router ports `lrp-<port id>`. Every row skymesh writes carries `skymesh:*`
external_ids; reconciliation only ever removes rows that carry them.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

NETWORK_ID = "skymesh:network_id"
NETWORK_NAME = "skymesh:network_name"
SUBNET_ID = "skymesh:subnet_id"
SUBNET_PREFIX = "skymesh:subnet:"  # on the switch: skymesh:subnet:<id> = "<cidr> <gateway>"
PORT_ID = "skymesh:port_id"
DEVICE_ID = "skymesh:device_id"
DEVICE_OWNER = "skymesh:device_owner"
OWNER = "skymesh:owner"  # which ensure_* manages the row: network, port, router
SECURITY_GROUP_ID = "skymesh:security_group_id"
RULE_ID = "skymesh:security_group_rule_id"
ROUTER_ID = "skymesh:router_id"
ROUTE = "skymesh:route"
FIP_ID = "skymesh:floating_ip_id"
DROP_GROUP = "skymesh_pg_drop"  # every port with port security: drop what no rule allows

ROUTER_OWNERS = ("network:router_interface", "network:router_gateway")


def switch(network_id: UUID | str) -> str:
    return f"skymesh-{network_id}"


def localnet(network_id: UUID | str) -> str:
    return f"provnet-{network_id}"


def port_group(security_group_id: UUID | str) -> str:
    return "pg_" + str(security_group_id).replace("-", "_")


def router(router_id: UUID | str) -> str:
    return f"skymesh-{router_id}"


def router_port(port_id: UUID | str) -> str:
    return f"lrp-{port_id}"


def derived_mac(seed: UUID | str) -> str:
    """A stable locally administered MAC for rows that need one (DHCP server, router ports
    without a port of their own)."""
    digest = hashlib.sha1(str(seed).encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])
