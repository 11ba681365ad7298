"""The plan apply's re-check of hard server group policies (Nova re-checks them late on
the compute host, because parallel boots race past the scheduler's filters).

Inside the apply transaction the groups of the plan's instances are locked (id order),
so two plans placing members of one group apply one after the other, and each sees
where the other's members hold allocations. A violation refuses the whole plan with
NoValidHost carrying `server_group`: the build plans again with the group's hosts as
they are now (conductor/build.py), which fails cleanly when no host is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from conductor.db.queries import group_members
from conductor.db.types import Connection
from schemas.errors import NoValidHost
from schemas.messages.conductor_hosts import PlannedAllocation
from schemas.server_group import ServerGroupPolicy


async def check(conn: Connection, entries: Sequence[PlannedAllocation]) -> None:
    """NoValidHost when an entry would break its group's affinity or anti-affinity."""
    instance_ids = [entry.instance_id for entry in entries]
    groups = await group_members.lock_groups_of(conn, instance_ids)
    if not groups:
        return
    names = await group_members.host_names(conn, [entry.host_id for entry in entries])
    placed: dict[UUID, list[str]] = {}  # group -> hosts of members, this plan's included
    for entry in entries:
        group = groups.get(entry.instance_id)
        if group is None or not ServerGroupPolicy(group["policy"]).hard:
            continue
        if group["id"] not in placed:
            placed[group["id"]] = await group_members.placed_hosts(conn, group["id"], instance_ids)
        host = names.get(entry.host_id, str(entry.host_id))
        reason = violation(group, placed[group["id"]], host)
        if reason is not None:
            raise NoValidHost(
                f"No valid host was found for instance {entry.instance_id}: {reason}",
                instance_id=str(entry.instance_id),
                server_group=str(group["id"]),
            )
        placed[group["id"]].append(host)


def violation(group: dict[str, Any], member_hosts: list[str], host: str) -> str | None:
    """Why placing one more member of `group` on `host` breaks its hard policy."""
    policy = ServerGroupPolicy(group["policy"])
    if policy is ServerGroupPolicy.AFFINITY:
        if member_hosts and host not in member_hosts:
            return (
                f"server group {group['id']} (affinity) has its members on "
                f"{', '.join(sorted(set(member_hosts)))}, not on {host}"
            )
        return None
    limit = (group["rules"] or {}).get("max_server_per_host") or 1
    if member_hosts.count(host) >= limit:
        return (
            f"host {host} already holds {member_hosts.count(host)} member(s) of server group "
            f"{group['id']} (anti-affinity, at most {limit} per host)"
        )
    return None
