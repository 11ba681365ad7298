"""Periodic network reconciliation: the database's networking intent, sent to a network agent.

Every `interval_s`, and as soon as a network agent registers (a new agent, or one whose
backend may have been rebuilt: `up --network ovn` starts an empty NB under a database that
already holds the demo networks and router), the conductor reads every network with its
subnets, security group, bound port, router and associated floating IP, and calls
`node_agent.network.sync` with them. The agent repairs OVN northbound to match (missing rows
created, drifted rows updated, orphans tagged as skymesh's removed) and replies with what it
changed, which is logged here. An agent whose driver cannot reconcile (the fake and dvr
drivers) refuses; that is logged once, and after a registration that agent is sent the
intent as the idempotent ensure commands instead (it creates what it lacks; it removes
nothing).

With the dvr backend (conductor/dvr_mirror.py) each compute host keeps its own record of
the network commands mirrored to it. When one registers (restarted, perhaps with its state
directory lost or after missing casts), it is sent the whole intent the same way, so it
rebuilds its qrouter/fip part without waiting for each object's next change.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from conductor import dvr_mirror
from conductor.db.queries import net_networks, net_ports, net_routers, net_security
from conductor.network_api_common import AGENT, network_model, subnet_model
from conductor.network_api_floating import floating_model
from conductor.network_api_ports import port_model
from conductor.network_api_routers import router_command
from conductor.network_api_security import group_models
from corebus.client import Client
from corebus.periodic import Periodic
from schemas.base import Message
from schemas.errors import InvalidInput
from schemas.messages import agent_network as agent
from schemas.messages.conductor_hosts import RegisterHost
from schemas.network import PortStatus
from schemas.placement import HostRole

log = logging.getLogger(__name__)


async def build_intent(conn: Any) -> agent.SyncNetwork:
    """What the network agents should hold, as the database says now."""
    subnets: dict[Any, list[Any]] = {}
    for row in await net_networks.list_subnets(conn, None, {}):
        subnets.setdefault(row["network_id"], []).append(subnet_model(row))
    networks = tuple(
        agent.EnsureNetwork(network=network_model(row), subnets=tuple(subnets.get(row["id"], ())))
        for row in await net_networks.list_networks(conn, None, {})
    )
    groups = tuple(
        agent.EnsureSecurityGroup(security_group=model)
        for model in await group_models(conn, await net_security.list_groups(conn, None, {}))
    )
    port_rows = await net_ports.list_ports(conn, None, {})
    ports = [port_model(row) for row in port_rows]
    bound = tuple(
        agent.EnsurePort(port=p, requested_chassis=p.binding_host)
        for p in ports
        if p.binding_host and not p.device_owner.startswith("network:")
    )
    routers = tuple(
        [
            await router_command(conn, row["id"])
            for row in await net_routers.list_routers(conn, None, {})
        ]
    )
    by_id = {p.id: p for p in ports}
    fips = []
    for row in await net_routers.list_floating_ips(conn, None, {}):
        model = floating_model(row)
        if model.port_id is None:
            continue
        port = by_id.get(model.port_id)
        up = port is not None and port.status is PortStatus.ACTIVE
        mac = port.mac_address if up and port is not None else None
        fips.append(agent.EnsureFloatingIp(floating_ip=model, external_mac=mac))
    return agent.SyncNetwork(
        networks=networks,
        security_groups=groups,
        ports=bound,
        routers=routers,
        floating_ips=tuple(fips),
    )


class NetworkSync:
    name = "conductor"

    def __init__(
        self, pool: asyncpg.Pool, client: Client, interval_s: float = 300, timeout_s: float = 120
    ) -> None:
        self._pool, self._client, self._timeout = pool, client, timeout_s
        self._periodic = Periodic("network-sync", interval_s, self.run_once)
        self._first, self._refused, self._registered = True, False, False
        self._tasks: set[asyncio.Task[int]] = set()

    async def start(self) -> None:
        await self._periodic.start()

    def soon(self) -> None:
        """Sync now rather than at the end of the interval (a network agent registered)."""
        self._first, self._registered = False, True
        self._periodic.kick()

    def host_registered(self, host: RegisterHost) -> asyncio.Task[int] | None:
        """A network agent: sync soon. A compute host of the dvr backend: cast it the
        whole intent (it keeps its own state of what it was told, which may be new or
        lost); the task doing that is returned."""
        if HostRole.NETWORK in host.roles:
            self.soon()
        if host.name not in dvr_mirror.compute_hosts():
            return None
        task = asyncio.create_task(self.resync_dvr_host(host.name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def resync_dvr_host(self, host: str) -> int:
        """Every network object of the database's intent, cast to one DVR compute host as
        the mirrored commands are (idempotent ensures); the number of commands sent."""
        try:
            async with self._pool.acquire() as conn:
                intent = await build_intent(conn)
            return await self._send_all(intent, f"node_agent.{host}")
        except Exception:
            log.exception("dvr: resync of %s failed (each object comes with its next change)", host)
            return 0

    async def _send_all(self, intent: agent.SyncNetwork, target: str) -> int:
        """Every object of the intent cast to `target` as its ensure command."""
        commands: list[Message] = [
            *intent.networks,
            *intent.security_groups,
            *intent.ports,
            *intent.routers,
            *intent.floating_ips,
        ]
        for command in commands:
            method = command.message_name.rpartition(".")[2]
            await self._client.cast(f"{target}.{method}", command)
        log.info("network sync: sent %s the %d objects of the intent", target, len(commands))
        return len(commands)

    async def stop(self) -> None:
        await self._periodic.stop()
        for task in list(self._tasks):
            task.cancel()

    async def run_once(self) -> agent.SyncNetworkReply | None:
        if self._first:  # Periodic runs at once: let the agents come up first
            self._first = False
            return None
        async with self._pool.acquire() as conn:
            intent = await build_intent(conn)
        try:
            reply = await self._client.call(
                f"{AGENT}.sync", intent, agent.SyncNetworkReply, timeout=self._timeout
            )
        except InvalidInput as exc:
            if not self._refused:
                log.info("network sync: the network agent does not reconcile (%s)", exc)
            self._refused = True
            if self._registered:  # a new agent: it gets what it can, the idempotent ensures
                self._registered = False
                await self._send_all(intent, AGENT)
            return None
        self._registered = False  # it reconciled: nothing more to send
        for drift in reply.drift:
            level = logging.WARNING if drift.action == "failed" else logging.INFO
            log.log(
                level,
                "network sync: %s %s %s%s",
                drift.kind,
                drift.resource_id,
                drift.action,
                f": {drift.reason}" if drift.reason else "",
            )
        return reply
