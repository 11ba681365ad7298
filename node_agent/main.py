"""Wiring of one agent process: settings and config -> bus, agent, runner."""

from __future__ import annotations

import logging

from corebus.config import Settings
from corebus.metrics import serve_metrics
from corebus.service import ServiceRunner
from corebus.transport import make_bus
from node_agent.agent import NodeAgent
from node_agent.config import AgentConfig

log = logging.getLogger(__name__)


async def run_agent(settings: Settings, config: AgentConfig, transport: str = "amqp") -> None:
    bus = make_bus(settings.amqp, name=f"node_agent@{config.host}", transport=transport)
    await bus.start()
    port = serve_metrics(settings.metrics)
    agent = NodeAgent(config, bus)
    runner = ServiceRunner(bus, agent.services())
    log.info(
        "agent %s (roles %s, state in %s)%s",
        config.host,
        ",".join(sorted(r.value for r in config.roles)),
        config.state_dir,
        f", metrics on :{port}" if port else "",
    )
    try:
        await runner.run_until_stopped()
    finally:
        await bus.close()
    log.info("agent %s stopped", config.host)
