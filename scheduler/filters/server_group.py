"""The server group a request's instance joins, when it has the given policy. The
`member_hosts` of a hint list the host of each member already placed (a host once per
member), including members placed earlier in the same request, so a multi-instance
request honours the policy among its own instances."""

from __future__ import annotations

from schemas.messages.scheduler import RequestSpec, ServerGroupHint
from schemas.server_group import ServerGroupPolicy


def group_with(spec: RequestSpec, policy: ServerGroupPolicy) -> ServerGroupHint | None:
    group = spec.server_group
    return group if group is not None and group.policy is policy else None
