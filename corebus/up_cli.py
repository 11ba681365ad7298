"""`skymesh up`, `down`, `status`: the local control plane in one command.

`up` creates the RabbitMQ vhost and the database if missing, migrates, seeds the demo
content, starts the conductor, the scheduler and the node agents (three compute, one
network, one storage), waits until every service answers and every host is up, boots
the demo server through the AMQP producer API, and says where everything is. In the
foreground it stays until Ctrl-C or SIGTERM; with `--detach` it exits 0 once the demo
server is ACTIVE (non-zero with the reason otherwise), and `skymesh down` stops it all.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from rich.markup import escape

from corebus.amqp.admin import AdminUnavailable, create_vhost, delete_vhost, vhost_of
from corebus.client import Client
from corebus.config import Settings
from corebus.launcher import Launcher, ProcessSpec, err, recorded, run_dir, stop_recorded
from corebus.transport import make_bus
from corebus.up_ready import DemoServer, Readiness
from corebus.up_security import forget_agent_users, secure
from corebus.up_security import register as register_credentials
from corebus.up_stacks import Choice, Stack, StackError, forget, remember, remembered, stack_for
from gateway.clouds import write_clouds_yaml
from schemas.errors import SkymeshError
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply


def register(commands: Any) -> None:
    up = commands.add_parser("up", help="start the local control plane")
    up.add_argument("--hypervisor", default="test", choices=("test", "qemu", "fake"))
    up.add_argument("--network", default="fake", choices=("fake", "ovn", "dvr"))
    up.add_argument("--storage", default="fake", choices=("fake", "rbd"))
    up.add_argument("--computes", type=int, default=3, help="compute agents (default 3)")
    up.add_argument(
        "--conductors",
        type=int,
        default=1,
        help="conductor processes (competing consumers; default 1)",
    )
    up.add_argument(
        "--detach",
        action="store_true",
        help="exit once the demo server is ACTIVE, leaving everything running",
    )
    up.add_argument("--no-demo", action="store_true", help="do not boot the demo server")
    up.add_argument(
        "--shared-agent-user",
        action="store_true",
        help="agents use the deployment's RabbitMQ user, not one user each",
    )
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to get ready")
    up.set_defaults(func=run_up)
    down = commands.add_parser("down", help="stop what `skymesh up` started")
    down.add_argument(
        "--purge", action="store_true", help="also drop the database and delete the RabbitMQ vhost"
    )
    down.set_defaults(func=run_down)
    status = commands.add_parser("status", help="the processes `up` started, and the hosts")
    status.set_defaults(func=run_status)
    register_credentials(commands)  # `skymesh agent-credentials` (corebus/up_security.py)


def choices(args: argparse.Namespace) -> list[Choice]:
    """The driver choices of this `up` that need a stack of real components."""
    picked = [
        Choice("hypervisor", args.hypervisor),
        Choice("network", args.network),
        Choice("storage", args.storage),
    ]
    return [c for c in picked if c.driver not in ("fake", "test")]


def _stack_args(stacks: list[Stack], role: str, host: str) -> tuple[str, ...]:
    return tuple(arg for stack in stacks for arg in stack.agent_args(role, host))


def services(args: argparse.Namespace, stacks: list[Stack] | None = None) -> list[ProcessSpec]:
    stacks = stacks or []
    drivers = (
        "--hypervisor",
        args.hypervisor,
        "--network",
        args.network,
        "--storage",
        args.storage,
    )
    specs = [
        ProcessSpec(f"conductor-{n}" if n > 1 else "conductor", ("conductor",))
        for n in range(1, args.conductors + 1)
    ]
    specs.append(ProcessSpec("scheduler", ("scheduler",)))
    specs.append(ProcessSpec("gateway", ("gateway",)))
    for n in range(1, args.computes + 1):
        specs.append(
            ProcessSpec(
                f"compute-{n}",
                (
                    "agent",
                    *("--host", f"compute-{n}", "--roles", "compute", *drivers),
                    *_stack_args(stacks, "compute", f"compute-{n}"),
                ),
            )
        )
    for role in ("network", "storage"):
        host = f"{role}-1"
        specs.append(
            ProcessSpec(
                host,
                (
                    "agent",
                    *("--host", host, "--roles", role, *drivers),
                    *_stack_args(stacks, role, host),
                ),
            )
        )
    return specs


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    missing = [c for c in choices(args) if stack_for(c) is None]
    if missing:
        named = ", ".join(f"--{c.area} {c.driver}" for c in missing)
        err.print(f"[red]{named}: not available in this build[/]")
        return 2
    return asyncio.run(_up(args, settings))


async def _up(args: argparse.Namespace, settings: Settings) -> int:
    running = [name for name, _, alive in recorded(settings.home) if alive]
    if running:
        err.print(
            f"[yellow]skymesh is already running ({', '.join(running)}): "
            "see `skymesh status`, stop it with `skymesh down`[/]"
        )
        return 1
    launcher = Launcher(settings.home, args.config)
    own_pid = run_dir(settings.home) / "up.pid"
    if not args.detach:
        own_pid.write_text(str(os.getpid()))
    try:
        return await _serve(launcher, args, settings)
    finally:
        own_pid.unlink(missing_ok=True)


async def _prepare(launcher: Launcher, settings: Settings) -> bool:
    vhost = vhost_of(settings.amqp.url)
    try:
        await create_vhost(vhost)
        err.print(f"[green]✓[/] RabbitMQ vhost [bold]{vhost}[/] ready")
    except AdminUnavailable as exc:
        err.print(f"[yellow]could not create the vhost {vhost!r} ({exc}); using it as it is[/]")
    for step in (ProcessSpec("db", ("db", "upgrade")), ProcessSpec("seed", ("seed",))):
        if await launcher.run_once(step) != 0:
            err.print(f"[red]`skymesh {' '.join(step.args)}` failed[/]")
            return False
    return True


async def _start_stacks(args: argparse.Namespace, settings: Settings) -> list[Stack] | None:
    picked = choices(args)
    stacks = [stack for c in picked if (stack := stack_for(c)) is not None]
    remember(settings.home, picked)
    for stack in stacks:
        with err.status(f"starting {stack.name}"):
            try:
                await stack.up(settings.home)
            except StackError as exc:
                err.print(f"[red]{stack.name} did not start: {exc}[/]")
                return None
        err.print(f"[green]✓[/] {stack.name} is up")
    return stacks


async def _stop_stacks(home: Path) -> None:
    for choice in reversed(remembered(home)):
        stack = stack_for(choice)
        if stack is not None:
            await stack.down(home)
    forget(home)


async def _serve(launcher: Launcher, args: argparse.Namespace, settings: Settings) -> int:
    if not await _prepare(launcher, settings):
        return 1
    stacks = await _start_stacks(args, settings)
    if stacks is None:
        await _stop_stacks(settings.home)
        return 1
    # per-agent broker users and fact-signing keys (corebus/up_security.py)
    specs = await secure(services(args, stacks), settings, not args.shared_agent_user)
    for spec in specs:
        await launcher.start(spec, detach=args.detach)
    demo = None if args.no_demo else DemoServer(from_volume=args.storage == "rbd")
    readiness = Readiness(settings, specs, demo)
    try:
        await asyncio.wait_for(readiness.wait(launcher.first_exit()), args.timeout)
    except (TimeoutError, SkymeshError, OSError) as exc:
        timed_out = isinstance(exc, TimeoutError)
        reason = readiness.explain_timeout(args.timeout) if timed_out else str(exc)
        err.print(f"[red]the control plane did not get ready:[/] {escape(reason)}")
        if args.detach:
            err.print(f"logs are in {settings.home / 'logs'}; `skymesh down` stops everything")
        else:
            await launcher.stop_all()
            await _stop_stacks(settings.home)
        return 1
    clouds = write_clouds_yaml(settings.home, settings.gateway.base_url, settings.gateway.region)
    _say_where(settings, args.detach)
    # on stdout, so that `eval "$(skymesh up --detach)"` sets them
    print(f"export OS_CLIENT_CONFIG_FILE={clouds}\nexport OS_CLOUD=skymesh", flush=True)
    if args.detach:
        return 0
    return await _foreground(launcher)


def _say_where(settings: Settings, detached: bool) -> None:
    url = settings.amqp.url.split("@")[-1]
    err.print(
        f"\n[bold]skymesh is running[/] (state in {settings.home})\n"
        f"  HTTP APIs:     {settings.gateway.base_url} (OpenStack-compatible; use the\n"
        "                 `openstack` CLI with the two lines below, or clouds `skymesh`\n"
        f"                 and `skymesh-admin` in {settings.home / 'clouds.yaml'})\n"
        f"  AMQP API:      publish commands to exchange skymesh.api on amqp://{url} "
        "(docs/amqp-api.md)\n"
        "  event stream:  `skymesh watch` prints notifications as they happen\n"
        "  status:        `skymesh status`\n"
        + (
            "  stop:          `skymesh down`\n"
            if detached
            else "  stop:          Ctrl-C here, or `skymesh down` from another shell\n"
        )
    )


async def _foreground(launcher: Launcher) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
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
    await _stop_stacks(launcher.home)
    err.print("[green]✓[/] stopped")
    return code


def run_down(args: argparse.Namespace, settings: Settings) -> int:
    stopped = stop_recorded(settings.home)
    asyncio.run(_stop_stacks(settings.home))
    asyncio.run(forget_agent_users(settings))
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
