"""The conductor's side of placement: the scheduler's host view (read by
conductor/host_snapshots.py, its change log pruned here) and the plan apply.

A plan is optimistic (made on a host view). `apply_plan` is the single authority: in one
transaction it locks the root provider of every host the plan touches (provider-id
order, as every claimer), refuses a host whose generation moved since the scheduler saw
it, re-checks each claim with the shared arithmetic of `schemas.fit` against the usage
read now and the inventory as the host's aggregates reshape it (the scheduler's
`schemas.aggregate_fit.effective_inventory`), the claims of one host consuming capacity
in turn, and writes the allocations with `allocations.claim` (generation compare and
swap), the PCI devices and the NUMA pins. A refused host is reported as a conflict with
its current generation and usage, so the scheduler retries on refreshed state. Hard
server group policies are re-checked first, under the groups' locks
(conductor/placement_groups.py): a violation refuses the plan with NoValidHost.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import asyncpg

from conductor import placement_groups
from conductor.db.queries import allocations, host_changes, host_devices, providers
from conductor.db.queries.allocations import AllocationRequest
from conductor.db.queries.host_devices import NumaPin
from conductor.db.queries.providers import GenerationConflict
from conductor.db.types import Connection
from conductor.host_inventory import (
    DISK_GB,
    MEMORY_MB,
    VCPU,
    HostResources,
    load_resources,
)
from conductor.host_snapshots import read_host_view
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.claims import Claim, ResourceRequest
from schemas.errors import Conflict, NotFound
from schemas.fit import add_claim, fit
from schemas.fit_pci import PciPool
from schemas.messages.conductor_hosts import (
    ApplyPlan,
    ApplyPlanReply,
    HostConflict,
    HostGeneration,
    HostView,
    HostViewReply,
    PlannedAllocation,
)
from schemas.placement import HostInventory, HostUsage

log = logging.getLogger(__name__)


class Placement:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        down_after_s: float,
        *,
        change_retention_s: float = 600.0,
    ) -> None:
        self._pool = pool
        self._down_after = timedelta(seconds=down_after_s)
        self._retention = timedelta(seconds=change_retention_s)
        self._pruned_at = -math.inf

    @rpc
    async def host_view(self, ctx: RequestContext, req: HostView) -> HostViewReply:
        async with self._pool.acquire() as conn:
            await self._prune(conn)
            return await read_host_view(conn, req, self._down_after)

    async def _prune(self, conn: Connection) -> None:
        """Trim the host change log now and then (a tenth of its retention)."""
        now = time.monotonic()
        if now - self._pruned_at < self._retention.total_seconds() / 10:
            return
        self._pruned_at = now
        await host_changes.prune(conn, self._retention)

    @rpc
    async def apply_plan(self, ctx: RequestContext, req: ApplyPlan) -> ApplyPlanReply:
        async with self._pool.acquire() as conn:
            reply = await apply_plan(conn, req)
        if reply.conflicts:
            log.info(
                "plan %s: %d applied, conflicts on %d host(s)",
                req.plan_id,
                len(reply.applied),
                len(reply.conflicts),
            )
        return reply


async def release(conn: Connection, instance_id: UUID) -> dict[UUID, int]:
    """Give back everything `instance_id` holds (allocations, PCI devices, NUMA pins),
    bumping the generation of each provider released from; idempotent."""
    return await allocations.release(conn, instance_id)


# -- plan apply --------------------------------------------------------------------------


class _Refused(Exception):
    """One host's part of a plan cannot be written."""


class _RollBack(Exception):
    """An all-or-nothing plan had a conflict: undo what was written."""


async def apply_plan(conn: Connection, plan: ApplyPlan) -> ApplyPlanReply:
    """Write what still fits, host by host, in one transaction (see the module doc)."""
    by_host: dict[UUID, list[PlannedAllocation]] = {}
    for entry in plan.allocations:
        by_host.setdefault(entry.host_id, []).append(entry)
    seen = {entry.host_id: entry.generation for entry in plan.host_generations}
    applied: list[UUID] = []
    conflicts: list[HostConflict] = []
    generations: list[HostGeneration] = []
    try:
        async with conn.transaction():
            await placement_groups.check(conn, plan.allocations)
            held = await _already_held(conn, [entry.instance_id for entry in plan.allocations])
            roots = await providers.root_providers(conn, list(by_host), lock=True)
            state = await load_resources(conn, list(roots))
            for host_id in sorted(by_host):  # locked above; the order only makes replies stable
                entries = by_host[host_id]
                resources = state.get(host_id)
                if resources is None:
                    conflicts.append(_conflict(host_id, entries, "unknown host", None))
                    continue
                reason = _stale(resources, seen[host_id])
                if reason is None:
                    reason, generation = await _apply_host(conn, resources, entries, held)
                if reason is not None:
                    conflicts.append(_conflict(host_id, entries, reason, resources))
                    continue
                applied += [entry.instance_id for entry in entries]
                generations.append(HostGeneration(host_id=host_id, generation=generation))
            if conflicts and plan.all_or_nothing:
                raise _RollBack
    except _RollBack:
        applied, generations = [], []
    return ApplyPlanReply(
        plan_id=plan.plan_id,
        applied=tuple(applied),
        conflicts=tuple(conflicts),
        host_generations=tuple(generations),
    )


def _stale(resources: HostResources, seen: int) -> str | None:
    if resources.generation == seen:
        return None
    return (
        f"host generation is {resources.generation}, the plan was made at {seen}: "
        "the host changed since"
    )


def _conflict(
    host_id: UUID,
    entries: Sequence[PlannedAllocation],
    reason: str,
    resources: HostResources | None,
) -> HostConflict:
    return HostConflict(
        host_id=host_id,
        instance_ids=tuple(entry.instance_id for entry in entries),
        reason=reason[:2048],
        generation=resources.generation if resources else 0,
        usage=resources.usage if resources else None,
    )


async def _already_held(conn: Connection, instance_ids: Sequence[UUID]) -> dict[UUID, UUID]:
    """{instance: the host it already holds allocations on}. NotFound for an instance
    that does not exist."""
    # FOR SHARE: a delete committing meanwhile either comes first (NotFound here) or
    # waits for this plan and then releases what it wrote; never a claim for a gone server
    known = await conn.fetch(
        "SELECT id FROM instances WHERE id = ANY($1) AND NOT deleted "
        # a failed build (ERROR, no task) holds nothing: a late plan for it is refused
        "AND NOT (vm_state = 'error' AND task_state IS NULL) ORDER BY id FOR SHARE",
        list(instance_ids),
    )
    missing = set(instance_ids) - {row["id"] for row in known}
    if missing:
        raise NotFound(
            f"instances not found: {', '.join(sorted(map(str, missing)))}",
            instance_ids=sorted(map(str, missing)),
        )
    rows = await conn.fetch(
        "SELECT DISTINCT a.consumer_id, rp.host_id FROM allocations a "
        "JOIN resource_providers rp ON rp.id = a.provider_id WHERE a.consumer_id = ANY($1)",
        list(instance_ids),
    )
    return {row["consumer_id"]: row["host_id"] for row in rows}


async def _apply_host(
    conn: Connection,
    resources: HostResources,
    entries: Sequence[PlannedAllocation],
    held: dict[UUID, UUID],
) -> tuple[str | None, int]:
    """Re-check and write one host's allocations in a savepoint: (None, new generation)
    or (why not, current generation) with nothing of this host written."""
    usage = resources.usage
    fresh: list[PlannedAllocation] = []
    for entry in entries:
        elsewhere = held.get(entry.instance_id)
        if elsewhere == resources.host_id:
            continue  # a replayed plan: already written
        if elsewhere is not None:
            raise Conflict(
                f"instance {entry.instance_id} already holds allocations on host "
                f"{elsewhere}: release them first",
                instance_id=str(entry.instance_id),
            )
        reason = claim_fits(resources.inventory, usage, entry.claim)
        if reason is not None:
            return f"instance {entry.instance_id} no longer fits: {reason}", resources.generation
        usage = add_claim(usage, entry.claim)
        fresh.append(entry)
    generation = resources.generation
    try:
        async with conn.transaction():
            for entry in fresh:
                generation = await _write(conn, resources, entry, generation)
    except (_Refused, GenerationConflict, asyncpg.UniqueViolationError) as exc:
        return f"could not write the claim: {exc}", resources.generation
    return None, generation


async def _write(
    conn: Connection, resources: HostResources, entry: PlannedAllocation, generation: int
) -> int:
    claim, rp = entry.claim, resources.provider_id
    amounts = [
        AllocationRequest(rp, rc, amount)
        for rc, amount in (
            (VCPU, claim.vcpus),
            (MEMORY_MB, claim.memory_mb),
            (DISK_GB, claim.disk_gb),
        )
        if amount > 0
    ]
    new = await allocations.claim(conn, entry.instance_id, amounts, {rp: generation})
    addresses = sorted(claim.pci_addresses)
    if not await host_devices.claim_pci(conn, resources.host_id, entry.instance_id, addresses):
        raise _Refused(f"PCI devices {', '.join(addresses)} are not all available")
    pins = [
        NumaPin(c.host_cell, tuple(sorted(c.pinned_cpus)), c.memory_mb) for c in claim.numa_cells
    ]
    await host_devices.pin_numa(conn, resources.host_id, entry.instance_id, pins)
    return new[rp]


def claim_fits(inventory: HostInventory, usage: HostUsage, claim: Claim) -> str | None:
    """Whether the exact `claim` (amounts, these PCI devices, these CPUs and cells) can
    still be taken: None, or why not. Amounts use `schemas.fit`, devices the same PCI
    pool rules (PF/VF exclusivity) as the scheduler's choice."""
    amounts = ResourceRequest(vcpus=claim.vcpus, memory_mb=claim.memory_mb, disk_gb=claim.disk_gb)
    result = fit(inventory, usage, amounts)
    if not result:
        return result.reason
    pool = PciPool(inventory.pci_devices, usage.pci_devices, inventory.numa_cells)
    for device in claim.pci_devices:
        known = pool.by_addr.get(device.address)
        if known is None or not pool.is_free(known):
            return f"pci: device {device.address} is not free"
        pool.used.add(device.address)
    cells = {cell.id: cell for cell in inventory.numa_cells}
    for part in claim.numa_cells:
        cell = cells.get(part.host_cell)
        if cell is None:
            return f"numa: the host has no cell {part.host_cell}"
        taken = usage.cell(part.host_cell)
        pinned = taken.pinned_cpus if taken else frozenset()
        memory = taken.memory_mb if taken else 0
        if not part.pinned_cpus <= cell.cpus - pinned:
            return f"numa: CPUs {sorted(part.pinned_cpus)} of cell {cell.id} are not free"
        if memory + part.memory_mb > cell.memory_mb:
            return (
                f"numa: cell {cell.id} has {cell.memory_mb - memory} MB free, "
                f"the claim takes {part.memory_mb} MB"
            )
    return None
