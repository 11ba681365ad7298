"""Several simulated hosts in one process (`skymesh agents --count N`), for scale
tests and benchmarks: each is a full NodeAgent with its own drivers, state directory,
incarnation and services, sharing one broker connection as Nova's fake-driver
multi-host setups share one process. A runner per agent, so the role services of all
of them compete on the role queues exactly as separate processes would."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal

from corebus.config import Settings
from corebus.metrics import serve_metrics
from corebus.service import ServiceRunner
from corebus.transport import make_bus
from node_agent.agent import NodeAgent
from node_agent.config import AgentConfig

log = logging.getLogger(__name__)


def fleet_configs(template: AgentConfig, prefix: str, first: int, count: int) -> list[AgentConfig]:
    """`count` hosts named `<prefix>-<n>` from `first`, each with its own state dir."""
    configs = []
    for n in range(first, first + count):
        host = f"{prefix}-{n}"
        configs.append(
            dataclasses.replace(template, host=host, state_dir=template.state_dir / host)
        )
    return configs


async def run_fleet(settings: Settings, configs: list[AgentConfig]) -> None:
    bus = make_bus(settings.amqp, name=f"node_agent_fleet@{configs[0].host}+{len(configs)}")
    await bus.start()
    serve_metrics(settings.metrics)
    runners = [ServiceRunner(bus, NodeAgent(config, bus).services()) for config in configs]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        for runner in runners:
            await runner.start()
        log.info("%d agents up (%s .. %s)", len(configs), configs[0].host, configs[-1].host)
        await stop.wait()
    finally:
        await asyncio.gather(*(runner.stop() for runner in runners), return_exceptions=True)
        await bus.close()
    log.info("fleet stopped")
