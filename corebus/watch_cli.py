"""`skymesh watch`: print the public notifications as they are published (a broadcast
subscriber of `skymesh.notifications`; Ctrl-C stops it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from typing import Any

from corebus.config import Settings
from corebus.envelope import Envelope
from corebus.transport import make_bus


def register(commands: Any) -> None:
    watch = commands.add_parser("watch", help="print notifications as they happen")
    watch.add_argument(
        "pattern",
        nargs="?",
        default="#",
        help="event types to show, AMQP topic pattern (default: all)",
    )
    watch.add_argument("--json", action="store_true", help="one JSON object a line")
    watch.set_defaults(func=run_watch)


def line(envelope: Envelope) -> str:
    note = envelope.payload
    payload = note.get("payload", {})
    subject = payload.get("uuid") or payload.get("volume_id") or payload.get("port_id") or "-"
    state = payload.get("state") or payload.get("status") or ""
    task = payload.get("task_state")
    extra = f" {state}" + (f"/{task}" if task else "") if state else ""
    return f"#{note.get('sequence', '?'):<6} {note.get('event_type')} {subject}{extra}"


def run_watch(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_watch(args, settings))


async def _watch(args: argparse.Namespace, settings: Settings) -> int:
    bus = make_bus(settings.amqp, name=f"watch:{os.getpid()}")
    await bus.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def show(topic: str, envelope: Envelope) -> None:
        text = json.dumps(envelope.payload) if args.json else line(envelope)
        print(text, flush=True)

    subscription = await bus.subscribe("notifications", [args.pattern], show)
    try:
        await stop.wait()
    finally:
        await subscription.cancel()
        await bus.close()
    return 0
