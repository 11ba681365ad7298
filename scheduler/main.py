"""Wiring of one scheduler process: settings -> bus, service -> runner."""

from __future__ import annotations

import logging
import os
import socket

from corebus.client import Client
from corebus.config import Settings
from corebus.metrics import serve_metrics
from corebus.service import ServiceRunner
from corebus.transport import make_bus
from scheduler.conductor_api import BusConductor
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler

log = logging.getLogger(__name__)


def scheduler_settings(settings: Settings) -> SchedulerSettings:
    """The `[scheduler]` section, or the defaults while corebus.config has none."""
    section = getattr(settings, "scheduler", None)
    return section if isinstance(section, SchedulerSettings) else SchedulerSettings()


async def run_scheduler(
    settings: Settings, transport: str = "amqp", config: SchedulerSettings | None = None
) -> None:
    config = config or scheduler_settings(settings)
    bus = make_bus(
        settings.amqp,
        name=f"scheduler@{socket.gethostname()}:{os.getpid()}",
        transport=transport,
    )
    await bus.start()
    port = serve_metrics(settings.metrics)
    conductor = BusConductor(Client(bus), timeout=config.call_timeout_s)
    runner = ServiceRunner(bus, [Scheduler(conductor, config)])
    log.info(
        "scheduler serving with filters %s and weighers %s%s",
        ", ".join(config.filters),
        ", ".join(f"{name} x{m}" for name, m in config.weighers.items()),
        f", metrics on :{port}" if port else "",
    )
    try:
        await runner.run_until_stopped()
    finally:
        await bus.close()
    log.info("scheduler stopped")
