"""The conductor's host registry: agents register on start and heartbeat after.

Each registration names a fresh agent incarnation; heartbeats carry an increasing
sequence within it, so a restarted agent is never confused with its predecessor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import asyncpg

from conductor.db.queries import host_changes
from conductor.db.queries import hosts as host_queries
from conductor.host_inventory import capabilities, save_inventory
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import NotFound
from schemas.messages.conductor_hosts import (
    Heartbeat,
    HostStatus,
    ListHosts,
    ListHostsReply,
    RegisterHost,
    RegisterHostReply,
)

log = logging.getLogger(__name__)


class HostRegistry:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        heartbeat_interval_s: float,
        down_after_s: float,
        on_registered: Callable[[RegisterHost], object] | None = None,
    ) -> None:
        self._pool = pool
        self._interval = heartbeat_interval_s
        self._down_after = timedelta(seconds=down_after_s)
        self._on_registered = on_registered

    @rpc
    async def register_host(self, ctx: RequestContext, req: RegisterHost) -> RegisterHostReply:
        inventory = req.inventory
        async with self._pool.acquire() as conn, conn.transaction():
            row = await host_queries.register_host(
                conn,
                req.name,
                [role.value for role in req.roles],
                incarnation=req.incarnation,
                availability_zone=req.availability_zone,
                agent_version=req.agent_version,
                capabilities=capabilities(inventory) if inventory is not None else None,
            )
            if inventory is not None:
                row["generation"] = await save_inventory(
                    conn, row["id"], row["root_provider_id"], inventory
                )
        log.info("host %s registered with roles %s", req.name, sorted(r.value for r in req.roles))
        if self._on_registered is not None:
            self._on_registered(req)
        return RegisterHostReply(
            host_id=row["id"], generation=row["generation"], heartbeat_interval_s=self._interval
        )

    @rpc
    async def heartbeat(self, ctx: RequestContext, req: Heartbeat) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await host_changes.note_back_up(conn, req.name, self._down_after)
            result = await host_queries.heartbeat(conn, req.name, req.incarnation, req.sequence)
        if result == "reregister":
            raise NotFound(f"host {req.name} must register again", host=req.name)

    @rpc
    async def list_hosts(self, ctx: RequestContext, req: ListHosts) -> ListHostsReply:
        async with self._pool.acquire() as conn:
            rows = await host_queries.list_hosts(
                conn, role=req.role.value if req.role else None, down_after=self._down_after
            )
        return ListHostsReply(
            hosts=tuple(
                HostStatus(
                    name=row["name"],
                    roles=frozenset(row["roles"]),
                    is_up=row["is_up"],
                    enabled=row["enabled"],
                    availability_zone=row["availability_zone"],
                    last_heartbeat_at=row["last_heartbeat_at"],
                )
                for row in rows
            )
        )
