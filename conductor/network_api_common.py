"""What every part of the Network API shares: who may see and own what, Neutron's
quota answer, and the commands that bring the network agents in line after a change.

Scoping: an admin sees every project's resources (Neutron lists everything for an
admin); anyone else only their project's, and another project's resource is "not
found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from conductor.db.queries import net_networks
from conductor.db.types import Connection
from conductor.dvr_mirror import mirror
from conductor.quota import charge
from conductor.records import network_from_row, subnet_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from schemas.base import Message
from schemas.errors import Conflict, Forbidden, QuotaExceeded
from schemas.messages import agent_network as agent
from schemas.network import Network, Subnet

AGENT = "node_agent.network"


def scope(ctx: RequestContext) -> UUID | None:
    """The project whose rows the caller may see; None for an admin (all of them)."""
    if ctx.is_admin:
        return None
    if ctx.project_id is None:
        raise Forbidden("this request needs a project-scoped token")
    return ctx.project_id


def owner(ctx: RequestContext, requested: UUID | None) -> UUID:
    """The project a new resource belongs to: the caller's, or for an admin the one
    asked for."""
    if requested is not None and requested != ctx.project_id:
        if not ctx.is_admin:
            raise Forbidden("only an admin may create resources for another project")
        return requested
    if ctx.project_id is None:
        raise Forbidden("this request needs a project-scoped token")
    return ctx.project_id


def admin_only(ctx: RequestContext, attribute: str) -> None:
    if not ctx.is_admin:
        raise Forbidden(f"(rule:create_network:{attribute}) is disallowed by policy")


async def charge_neutron(conn: Connection, project_id: UUID, deltas: Mapping[str, int]) -> None:
    """Count `deltas` against the quota; over it is Neutron's 409 OverQuota."""
    try:
        await charge(conn, project_id, deltas)
    except QuotaExceeded as exc:
        resource = str(exc.details.get("resource", ""))
        raise Conflict(
            f"Quota exceeded for resources: ['{NEUTRON_NAMES.get(resource, resource)}'].",
            kind="OverQuota",
        ) from None


# skymesh quota resource -> Neutron's name for it
NEUTRON_NAMES = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "routers": "router",
    "floating_ips": "floatingip",
    "security_groups": "security_group",
    "security_group_rules": "security_group_rule",
}


def changed(req: Any, name: str) -> bool:
    return name in req.fields


def network_model(row: Mapping[str, Any]) -> Network:
    return network_from_row(row, tuple(row.get("subnet_ids") or ()))


async def ensure_network_command(conn: Connection, network_id: UUID) -> agent.EnsureNetwork:
    """The command that makes the agents' logical switch match the network now."""
    row = await net_networks.get_network(conn, network_id, None)
    assert row is not None
    subnets = tuple(
        subnet_model(s)
        for s in await net_networks.list_subnets(conn, None, {"network_id": network_id})
    )
    return agent.EnsureNetwork(network=network_model(row), subnets=subnets)


def subnet_model(row: Mapping[str, Any]) -> Subnet:
    return subnet_from_row(row)


class Agents:
    """Casts to any network agent, after the change committed (idempotent commands)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def cast(self, ctx: RequestContext, *commands: Message) -> None:
        for command in commands:
            method = command.message_name.rsplit(".", 1)[-1]
            await self._client.cast(f"{AGENT}.{method}", command, context=ctx)
            await mirror(self._client, command, ctx)  # dvr backend: compute hosts too
