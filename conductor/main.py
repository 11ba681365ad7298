"""Wiring of one conductor process: settings -> pool, bus, services -> runner."""

from __future__ import annotations

import logging
import os
import socket

from conductor.db import migrate
from conductor.db.pool import open_pool
from conductor.hosts import HostRegistry
from conductor.status import StatusReporter
from corebus.config import Settings
from corebus.metrics import serve_metrics
from corebus.service import ServiceRunner
from corebus.transport import make_bus

log = logging.getLogger(__name__)


class SchemaNotReady(RuntimeError):
    pass


async def run_conductor(settings: Settings, transport: str = "amqp") -> None:
    pending = [s.label for s in await migrate.status(settings.database.dsn) if s.state != "applied"]
    if pending:
        raise SchemaNotReady(
            f"the database is not migrated ({', '.join(pending)}): run `skymesh db upgrade`"
        )
    async with open_pool(settings.database, role="conductor") as pool:
        bus = make_bus(
            settings.amqp,
            name=f"conductor@{socket.gethostname()}:{os.getpid()}",
            transport=transport,
        )
        await bus.start()
        port = serve_metrics(settings.metrics)
        conf = settings.conductor
        runner = ServiceRunner(
            bus,
            [
                HostRegistry(pool, conf.heartbeat_interval_s, conf.down_after_s),
                StatusReporter(pool, conf.status_log_interval_s, conf.down_after_s),
            ],
        )
        log.info(
            "conductor serving on %s%s",
            _safe_url(settings.amqp.url),
            f", metrics on :{port}" if port else "",
        )
        try:
            await runner.run_until_stopped()
        finally:
            await bus.close()
        log.info("conductor stopped")


def _safe_url(url: str) -> str:
    """The broker URL without its password, for logs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
