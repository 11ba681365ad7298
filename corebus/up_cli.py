"""`skymesh up` and `skymesh down`: the local control plane in one command.

`up` creates the RabbitMQ vhost and the database if missing, migrates, then starts the
control-plane processes and keeps them in the foreground until Ctrl-C or SIGTERM (or
`skymesh down` from another shell). Today that is the conductor; the scheduler, the
node agents and the gateway join this list as they are built.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from corebus.amqp.admin import AdminUnavailable, create_vhost, delete_vhost, vhost_of
from corebus.client import Client
from corebus.config import Settings
from corebus.launcher import Launcher, ProcessSpec, err, recorded, run_dir, stop_recorded
from corebus.transport import make_bus
from schemas.errors import SkymeshError
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply

SERVICES = (ProcessSpec("conductor", ("conductor",)),)


def register(commands: Any) -> None:
    up = commands.add_parser("up", help="start the local control plane (foreground)")
    up.set_defaults(func=run_up)
    down = commands.add_parser("down", help="stop what `skymesh up` started")
    down.add_argument(
        "--purge", action="store_true", help="also drop the database and delete the RabbitMQ vhost"
    )
    down.set_defaults(func=run_down)
    status = commands.add_parser("status", help="the processes `up` started, and the hosts")
    status.set_defaults(func=run_status)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_up(settings, args.config))


async def _up(settings: Settings, config: str | None) -> int:
    launcher = Launcher(settings.home, config)
    own_pid = run_dir(settings.home) / "up.pid"
    own_pid.write_text(str(os.getpid()))
    try:
        return await _serve(launcher, settings)
    finally:
        own_pid.unlink(missing_ok=True)


async def _serve(launcher: Launcher, settings: Settings) -> int:
    vhost = vhost_of(settings.amqp.url)
    try:
        await create_vhost(vhost)
        err.print(f"[green]✓[/] RabbitMQ vhost [bold]{vhost}[/] ready")
    except AdminUnavailable as exc:
        err.print(f"[yellow]could not create the vhost {vhost!r} ({exc}); using it as it is[/]")
    if await launcher.run_once(ProcessSpec("db", ("db", "upgrade"))) != 0:
        err.print("[red]the database migration failed[/]")
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for spec in SERVICES:
        await launcher.start(spec)
    err.print(
        f"[green]✓[/] started {', '.join(s.name for s in SERVICES)}; state in {settings.home}\n"
        "  stop with Ctrl-C here, or `skymesh down` from another shell"
    )
    stopper = asyncio.create_task(stop.wait())
    exited = asyncio.create_task(launcher.wait_any())
    await asyncio.wait((stopper, exited), return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if exited.done():
        name = exited.result()
        code = launcher.children[name].returncode or 0
        err.print(f"[red]{name} exited ({code}); stopping the rest[/]")
        code = code or 1
    else:
        exited.cancel()
    await launcher.stop_all()
    err.print("[green]✓[/] stopped")
    return code


def run_down(args: argparse.Namespace, settings: Settings) -> int:
    stopped = stop_recorded(settings.home)
    print(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    if args.purge:
        return asyncio.run(_purge(settings, args.config))
    return 0


async def _purge(settings: Settings, config: str | None) -> int:
    code = await Launcher(settings.home, config).run_once(ProcessSpec("db", ("db", "drop")))
    vhost = vhost_of(settings.amqp.url)
    try:
        await delete_vhost(vhost)
        print(f"deleted vhost {vhost}")
    except AdminUnavailable as exc:
        print(f"could not delete the vhost {vhost!r}: {exc}")
        code = code or 1
    return code


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_status(settings))


async def _status(settings: Settings) -> int:
    for name, pid, alive in recorded(settings.home):
        state = "[green]running[/]" if alive else "[red]gone[/]"
        err.print(f"{name:>10}  pid {pid:<8} {state}")
    bus = make_bus(settings.amqp, name=f"status:{os.getpid()}")
    try:
        await bus.start()
        reply = await Client(bus).call(
            "conductor.list_hosts", ListHosts(), ListHostsReply, timeout=5
        )
    except (SkymeshError, OSError) as exc:
        err.print(f"[red]the conductor does not answer: {exc}[/]")
        return 1
    finally:
        await bus.close()
    if not reply.hosts:
        err.print("no hosts registered")
    for host in reply.hosts:
        state = "[green]up[/]" if host.is_up else "[red]down[/]"
        if not host.enabled:
            state += " (disabled)"
        beat = (
            host.last_heartbeat_at.isoformat(timespec="seconds") if host.last_heartbeat_at else "-"
        )
        roles = ",".join(sorted(r.value for r in host.roles))
        err.print(f"{host.name:>20}  {roles:<24} {state}  last heartbeat {beat}")
    return 0
