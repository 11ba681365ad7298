"""Addressing node agents: a command goes to `node_agent.<host>.<method>`, the method
being the last word of the command's message name (`node_agent.compute.spawn`). A role
served by any agent of it (`network`, `storage`) takes the place of the host."""

from __future__ import annotations

from conductor.dvr_mirror import mirror
from corebus.client import Client
from corebus.envelope import RequestContext
from schemas.base import Message

# (host or role, command): what a transaction decided to tell the agents, sent only
# once it committed, so an agent never acts on a state that was rolled back
Casts = list[tuple[str, Message]]


def agent_topic(host: str, command: Message) -> str:
    return f"node_agent.{host}.{command.message_name.rsplit('.', 1)[-1]}"


async def cast_all(client: Client, casts: Casts, context: RequestContext) -> None:
    for host, command in casts:
        await client.cast(agent_topic(host, command), command, context=context)
        if host == "network":
            await mirror(client, command, context)  # dvr backend: compute hosts too
