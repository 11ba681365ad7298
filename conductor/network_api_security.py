"""The Network API's security groups and rules (Neutron semantics).

Each project gets its `default` group on first use (listing groups or rules, or creating
a port), with Neutron's default rules; it cannot be deleted (409). An identical rule
twice is 409 SecurityGroupRuleExists; a group that ports are in is not deleted (409
SecurityGroupInUse). After each change the network agents get `ensure_security_group`
(the port group and its ACLs) or `delete_security_group`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

from conductor.db.queries import net_networks, net_security, quotas
from conductor.db.types import Connection
from conductor.network_api_common import Agents, changed, charge_neutron, owner, scope
from conductor.records import model_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages import agent_network as agent
from schemas.messages.common import Accepted
from schemas.messages.conductor_network_api import (
    NetCreateRule,
    NetCreateSecurityGroup,
    NetListRules,
    NetListSecurityGroups,
    NetRef,
    NetRule,
    NetRules,
    NetSecurityGroup,
    NetSecurityGroups,
    NetUpdateSecurityGroup,
)
from schemas.security_group import SecurityGroup, SecurityGroupRule


def rule_model(row: dict[str, Any]) -> SecurityGroupRule:
    return model_from_row(SecurityGroupRule, row)


async def group_models(conn: Connection, rows: list[dict[str, Any]]) -> list[SecurityGroup]:
    rules = await net_security.rules_of(conn, [r["id"] for r in rows])
    by_group: dict[UUID, list[SecurityGroupRule]] = {}
    for rule in rules:
        by_group.setdefault(rule["security_group_id"], []).append(rule_model(rule))
    return [
        model_from_row(SecurityGroup, row, rules=tuple(by_group.get(row["id"], ()))) for row in rows
    ]


async def group_command(conn: Connection, group_id: UUID) -> agent.EnsureSecurityGroup:
    """The command that makes the agents' port group match the group now."""
    row = await net_security.get_group(conn, group_id, None)
    assert row is not None
    (model,) = await group_models(conn, [row])
    return agent.EnsureSecurityGroup(security_group=model)


def _not_found(group_id: UUID) -> NotFound:
    return NotFound(f"Security group {group_id} does not exist", kind="SecurityGroupNotFound")


class SecurityGroupResources:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, client: Client) -> None:
        self._pool = pool
        self._agents = Agents(client)

    async def _default_for(
        self, conn: Connection, ctx: RequestContext
    ) -> list[agent.EnsureSecurityGroup]:
        """Make the caller's default group if it is missing (Neutron does it on first
        use); the command for the agents when it was made."""
        if ctx.project_id is None:
            return []
        group_id, created = await net_security.ensure_default(conn, ctx.project_id)
        return [await group_command(conn, group_id)] if created else []

    @rpc
    async def net_list_security_groups(
        self, ctx: RequestContext, req: NetListSecurityGroups
    ) -> NetSecurityGroups:
        async with self._pool.acquire() as conn, conn.transaction():
            commands = await self._default_for(conn, ctx)
            rows = await net_security.list_groups(conn, scope(ctx), req.model_dump())
            groups = await group_models(conn, rows)
        await self._agents.cast(ctx, *commands)
        return NetSecurityGroups(security_groups=tuple(groups))

    @rpc
    async def net_show_security_group(self, ctx: RequestContext, req: NetRef) -> NetSecurityGroup:
        async with self._pool.acquire() as conn:
            row = await net_security.get_group(conn, req.id, scope(ctx))
            if row is None:
                raise _not_found(req.id)
            (group,) = await group_models(conn, [row])
        return NetSecurityGroup(security_group=group)

    @rpc
    async def net_create_security_group(
        self, ctx: RequestContext, req: NetCreateSecurityGroup
    ) -> NetSecurityGroup:
        project_id = owner(ctx, req.project_id)
        if req.name == "default":
            raise Conflict("Default security group already exists.", kind="SecurityGroupInUse")
        async with self._pool.acquire() as conn, conn.transaction():
            commands = await self._default_for(conn, ctx)
            await charge_neutron(conn, project_id, {"security_groups": 1})
            group_id = await net_security.insert_group(
                conn, project_id, req.name, req.description, req.stateful
            )
            # Neutron gives every new group the two egress rules of the default group
            for ethertype in ("IPv4", "IPv6"):
                await net_security.insert_rule(conn, _rule_values(group_id, "egress", ethertype))
            command = await group_command(conn, group_id)
        await self._agents.cast(ctx, *commands, command)
        return NetSecurityGroup(security_group=command.security_group)

    @rpc
    async def net_update_security_group(
        self, ctx: RequestContext, req: NetUpdateSecurityGroup
    ) -> NetSecurityGroup:
        changes = {f: getattr(req, f) for f in ("name", "description") if changed(req, f)}
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_security.get_group(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise _not_found(req.id)
            if row["name"] == "default" and changes.get("name", "default") != "default":
                raise Conflict("Updating default security group not allowed.")
            await net_networks.update_row(conn, "security_groups", req.id, changes)
            command = await group_command(conn, req.id)
        await self._agents.cast(ctx, command)
        return NetSecurityGroup(security_group=command.security_group)

    @rpc
    async def net_delete_security_group(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_security.get_group(conn, req.id, scope(ctx), lock=True)
            if row is None:
                raise _not_found(req.id)
            if row["name"] == "default" and not ctx.is_admin:
                raise Conflict(
                    "Insufficient rights for removing default security group.",
                    kind="SecurityGroupCannotRemoveDefault",
                )
            if await net_security.in_use(conn, req.id):
                raise Conflict(f"Security Group {req.id} in use.", kind="SecurityGroupInUse")
            rules = await net_security.delete_group(conn, req.id)
            await quotas.release(
                conn,
                row["project_id"],
                {
                    "security_groups": 0 if row["name"] == "default" else 1,
                    "security_group_rules": rules,
                },
            )
        await self._agents.cast(ctx, agent.DeleteSecurityGroup(security_group_id=req.id))
        return Accepted(resource_id=req.id, request_id=ctx.request_id)

    # --------------------------------------------------------------------------- rules

    @rpc
    async def net_list_security_group_rules(
        self, ctx: RequestContext, req: NetListRules
    ) -> NetRules:
        async with self._pool.acquire() as conn, conn.transaction():
            commands = await self._default_for(conn, ctx)
            rows = await net_security.list_rules(conn, scope(ctx), req.model_dump())
        await self._agents.cast(ctx, *commands)
        return NetRules(rules=tuple(rule_model(r) for r in rows))

    @rpc
    async def net_show_security_group_rule(self, ctx: RequestContext, req: NetRef) -> NetRule:
        async with self._pool.acquire() as conn:
            row = await net_security.get_rule(conn, req.id, scope(ctx))
        if row is None:
            raise NotFound(
                f"Security group rule {req.id} does not exist",
                kind="SecurityGroupRuleNotFound",
            )
        return NetRule(rule=rule_model(row))

    @rpc
    async def net_create_security_group_rule(
        self, ctx: RequestContext, req: NetCreateRule
    ) -> NetRule:
        values = _checked_rule(req)
        async with self._pool.acquire() as conn, conn.transaction():
            group = await net_security.get_group(conn, req.security_group_id, scope(ctx), lock=True)
            if group is None:
                raise _not_found(req.security_group_id)
            if (
                req.remote_group_id is not None
                and await net_security.get_group(conn, req.remote_group_id, scope(ctx)) is None
            ):
                raise _not_found(req.remote_group_id)
            await charge_neutron(conn, group["project_id"], {"security_group_rules": 1})
            rule_id = await net_security.insert_rule(conn, values)
            if rule_id is None:
                existing = await net_security.duplicate_of(conn, values)
                raise Conflict(
                    f"Security group rule already exists. Rule id is {existing}.",
                    kind="SecurityGroupRuleExists",
                )
            row = await net_security.get_rule(conn, rule_id, None)
            command = await group_command(conn, req.security_group_id)
        await self._agents.cast(ctx, command)
        assert row is not None
        return NetRule(rule=rule_model(row))

    @rpc
    async def net_delete_security_group_rule(self, ctx: RequestContext, req: NetRef) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await net_security.get_rule(conn, req.id, scope(ctx))
            if row is None:
                raise NotFound(
                    f"Security group rule {req.id} does not exist",
                    kind="SecurityGroupRuleNotFound",
                )
            await net_security.delete_rule(conn, req.id)
            await quotas.release(conn, row["project_id"], {"security_group_rules": 1})
            command = await group_command(conn, row["security_group_id"])
        await self._agents.cast(ctx, command)
        return Accepted(resource_id=req.id, request_id=ctx.request_id)


def _rule_values(group_id: UUID, direction: str, ethertype: str) -> dict[str, Any]:
    return {
        "security_group_id": group_id,
        "direction": direction,
        "ethertype": ethertype,
        "protocol": None,
        "port_range_min": None,
        "port_range_max": None,
        "remote_ip_prefix": None,
        "remote_group_id": None,
        "description": "",
    }


def _checked_rule(req: NetCreateRule) -> dict[str, Any]:
    """The rule's attributes checked together (protocol, port range, remote)."""
    try:
        rule = SecurityGroupRule.model_validate({**req.model_dump(), "id": uuid4()})
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        message = str(errors()[0]["msg"]) if callable(errors) else str(exc)
        raise InvalidInput(message.removeprefix("Value error, "), kind="InvalidInput") from None
    return rule.model_dump(
        exclude={"id", "project_id", "created_at", "updated_at", "revision_number"}
    )
