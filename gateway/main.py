"""One gateway process: settings -> bus -> app -> listening socket."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

from aiohttp import web

from corebus.config import Settings
from corebus.tls import server_context
from corebus.transport import make_bus
from gateway.app import build_app

log = logging.getLogger(__name__)


class GatewayCannotListen(Exception):
    """The gateway's address is taken or not ours (the process exits 1 saying which)."""


async def run_gateway(settings: Settings, transport: str = "amqp") -> None:
    conf = settings.gateway
    bus = make_bus(
        settings.amqp, name=f"gateway@{socket.gethostname()}:{os.getpid()}", transport=transport
    )
    await bus.start()
    app = build_app(conf, bus)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(
        runner, conf.host, conf.port, reuse_address=True, ssl_context=server_context(conf)
    )
    try:
        try:
            await site.start()
        except OSError as exc:
            raise GatewayCannotListen(f"cannot listen on {conf.host}:{conf.port}: {exc}") from exc
        log.info("gateway listening on %s", conf.base_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await bus.close()
    log.info("gateway stopped")
