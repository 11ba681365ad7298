"""Addressing node agents: a command goes to `node_agent.<host>.<method>`, the method
being the last word of the command's message name (`node_agent.compute.spawn`)."""

from __future__ import annotations

from schemas.base import Message


def agent_topic(host: str, command: Message) -> str:
    return f"node_agent.{host}.{command.message_name.rsplit('.', 1)[-1]}"
