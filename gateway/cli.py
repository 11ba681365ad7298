"""`skymesh gateway`: serve the OpenStack-compatible HTTP APIs."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from corebus.config import Settings

log = logging.getLogger("gateway")


def register(commands: Any) -> None:
    parser = commands.add_parser("gateway", help="serve the HTTP APIs (OpenStack-compatible)")
    parser.add_argument("--host", help="listen address (default from [gateway] host)")
    parser.add_argument("--port", type=int, help="listen port (default from [gateway] port)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.main import GatewayCannotListen, run_gateway

    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if changes:
        settings = settings.model_copy(
            update={"gateway": settings.gateway.model_copy(update=changes)}
        )
    try:
        asyncio.run(run_gateway(settings))
    except GatewayCannotListen as exc:
        log.error("%s", exc)
        return 1
    return 0
