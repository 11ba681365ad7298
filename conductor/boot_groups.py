"""A server joining its server group (Nova's scheduler hint `group`).

At create, in the create transaction: the group (the project's) is locked, the new
members are counted against `server_group_members` (a per-group limit, as in Nova) and
added once their rows exist; the request spec carries the group's policy and the
hosts its members hold, for the scheduler's (anti-)affinity filters and weighers.
Before each scheduling attempt the build refreshes those hosts (`refreshed`): members
placed since count. Two builds racing past the scheduler are caught by the plan apply
(conductor/placement_groups.py).
"""

from __future__ import annotations

from uuid import UUID

from conductor.db.queries import admin_server_groups, group_members, quotas
from conductor.db.types import Connection
from schemas.errors import InvalidInput, QuotaExceeded
from schemas.messages.scheduler import RequestSpec, ServerGroupHint
from schemas.server_group import ServerGroupPolicy, ServerGroupRules

MEMBERS = "server_group_members"


async def admit(conn: Connection, group_id: UUID, project_id: UUID, count: int) -> ServerGroupHint:
    """Let `count` new members into the group (locked until the create commits, when
    they are added); the hint their request specs carry."""
    group = await admin_server_groups.lock_group(conn, group_id, project_id)
    if group is None:
        raise InvalidInput(f"Invalid server group {group_id}: it could not be found.")
    limit = (await quotas.usage(conn, project_id)).get(MEMBERS, {}).get("limit", -1)
    members = len(group["members"])
    if 0 <= limit < members + count:
        raise QuotaExceeded(
            f"quota exceeded for {MEMBERS}: requested {count}, limit {limit}, in use {members}",
            resource=MEMBERS,
        )
    return ServerGroupHint(
        group_id=group_id,
        policy=ServerGroupPolicy(group["policy"]),
        rules=ServerGroupRules.model_validate(group["rules"]),
        member_hosts=tuple(await group_members.placed_hosts(conn, group_id, ())),
    )


async def refreshed(conn: Connection, spec: RequestSpec) -> RequestSpec:
    """`spec` with its group's member hosts as they are now."""
    group = spec.server_group
    if group is None:
        return spec
    hosts = await group_members.placed_hosts(conn, group.group_id, spec.instance_ids)
    return spec.model_copy(
        update={"server_group": group.model_copy(update={"member_hosts": tuple(hosts)})}
    )
