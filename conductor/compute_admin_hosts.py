"""The conductor's view of compute hosts for operators: as Nova's `nova-compute`
services (enable, disable with a reason, force down, delete), as hypervisors (capacity
and usage) and grouped into availability zones.

What is set here is what the scheduler's host view reads (hosts.enabled, forced_down
and the zone rule of conductor/db/queries/admin_hosts.py), so a disabled service gets
no new servers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from conductor.compute_admin_scope import require_admin
from conductor.db.queries import admin_hosts
from conductor.db.queries import hosts as host_queries
from conductor.db.types import Connection
from conductor.host_inventory import DISK_GB, MEMORY_MB, VCPU
from conductor.records import model_from_row
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.compute_admin import AvailabilityZone, ComputeService, Hypervisor, HypervisorServer
from schemas.errors import Conflict, NotFound
from schemas.messages.conductor_compute_admin import (
    AvailabilityZonesReply,
    DeleteService,
    HypervisorsReply,
    ListAvailabilityZones,
    ListHypervisors,
    ListServices,
    ServiceRef,
    ServiceReply,
    ServicesReply,
    UpdateService,
)

BINARY = "nova-compute"


def service_from_row(row: dict[str, Any]) -> ComputeService:
    return model_from_row(ComputeService, row, binary=BINARY)


class ComputeHostsAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, down_after_s: float) -> None:
        self._pool = pool
        self._down_after = timedelta(seconds=down_after_s)

    async def _one(self, conn: Connection, ref: ServiceRef) -> dict[str, Any]:
        rows = await admin_hosts.compute_services(
            conn, self._down_after, host=ref.host, host_id=ref.service_id, number=ref.number
        )
        if not rows:
            what = ref.service_id or ref.number or ref.host
            raise NotFound(f"Service {what} could not be found.")
        return rows[0]

    @rpc
    async def list_services(self, ctx: RequestContext, req: ListServices) -> ServicesReply:
        require_admin(ctx, "listing services")
        if req.binary not in (None, BINARY):
            return ServicesReply()
        async with self._pool.acquire() as conn:
            rows = await admin_hosts.compute_services(conn, self._down_after, host=req.host)
        return ServicesReply(services=tuple(service_from_row(row) for row in rows))

    @rpc
    async def update_service(self, ctx: RequestContext, req: UpdateService) -> ServiceReply:
        require_admin(ctx, "updating services")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._one(conn, req)
            await admin_hosts.set_service(
                conn,
                row["id"],
                enabled=req.enabled,
                disabled_reason=req.disabled_reason,
                forced_down=req.forced_down,
            )
            row = await self._one(conn, ServiceRef(service_id=row["id"]))
        return ServiceReply(service=service_from_row(row))

    @rpc
    async def delete_service(self, ctx: RequestContext, req: DeleteService) -> None:
        require_admin(ctx, "deleting services")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._one(conn, req)
            if await admin_hosts.live_servers_on(conn, row["id"]):
                raise Conflict(f"Service {row['host']} still runs servers: move them first.")
            try:
                await host_queries.delete_host(conn, row["host"])
            except asyncpg.ForeignKeyViolationError:
                raise Conflict(
                    f"Service {row['host']} still holds allocations: release them first."
                ) from None

    @rpc
    async def list_hypervisors(self, ctx: RequestContext, req: ListHypervisors) -> HypervisorsReply:
        require_admin(ctx, "listing hypervisors")
        async with self._pool.acquire() as conn:
            rows = await admin_hosts.compute_services(
                conn,
                self._down_after,
                host_id=req.hypervisor_id,
                number=req.number,
                name_contains=req.pattern,
            )
            ids = [row["id"] for row in rows]
            usage = await admin_hosts.usage_by_host(conn, ids)
            servers = await admin_hosts.servers_by_host(conn, ids)
        if not rows and (req.hypervisor_id or req.number):
            raise NotFound(f"Hypervisor {req.hypervisor_id or req.number} could not be found.")
        return HypervisorsReply(
            hypervisors=tuple(
                _hypervisor(row, usage.get(row["id"], {}), servers.get(row["id"], []), req)
                for row in rows
            )
        )

    @rpc
    async def list_availability_zones(
        self, ctx: RequestContext, req: ListAvailabilityZones
    ) -> AvailabilityZonesReply:
        """Every zone with a compute service in it; the services only for admins."""
        async with self._pool.acquire() as conn:
            rows = await admin_hosts.compute_services(conn, self._down_after)
        by_zone: dict[str, list[ComputeService]] = {}
        for row in rows:
            by_zone.setdefault(row["zone"], []).append(service_from_row(row))
        return AvailabilityZonesReply(
            zones=tuple(
                AvailabilityZone(
                    name=zone,
                    available=any(s.enabled for s in services),
                    services=tuple(services) if ctx.is_admin else (),
                )
                for zone, services in sorted(by_zone.items())
            )
        )


def _hypervisor(
    row: dict[str, Any],
    usage: dict[str, tuple[int, int]],
    servers: list[dict[str, Any]],
    req: ListHypervisors,
) -> Hypervisor:
    caps = row.get("capabilities") or {}
    vcpus, memory, disk = (usage.get(rc, (0, 0)) for rc in (VCPU, MEMORY_MB, DISK_GB))
    return Hypervisor(
        service=service_from_row(row),
        hypervisor_type=caps.get("hypervisor_type") or "QEMU",
        hypervisor_version=caps.get("hypervisor_version"),
        host_ip=caps.get("host_ip"),
        cpu_model=caps.get("cpu_model"),
        vcpus=vcpus[0],
        vcpus_used=vcpus[1],
        memory_mb=memory[0],
        memory_mb_used=memory[1],
        local_gb=disk[0],
        local_gb_used=disk[1],
        running_vms=len(servers),
        current_workload=sum(1 for s in servers if s["task_state"] is not None),
        servers=tuple(HypervisorServer(id=s["id"], name=s["name"]) for s in servers)
        if req.with_servers
        else (),
    )
