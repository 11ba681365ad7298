"""The conductor's aggregate API (admin only): aggregates, their hosts and metadata.
`availability_zone` in the metadata puts the aggregate's hosts in that zone, which the
scheduler's host view reads; a host is in one zone at most, so a change that would put
a host in two is refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from conductor.compute_admin_scope import require_admin
from conductor.db.queries import admin_aggregates, aggregates
from conductor.db.types import Connection
from conductor.records import model_from_row
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.compute_admin import Aggregate
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages.conductor_compute_admin import (
    AggregateReply,
    AggregatesReply,
    ChangeAggregateHost,
    CreateAggregate,
    DeleteAggregate,
    GetAggregate,
    ListAggregates,
    SetAggregateMetadata,
    UpdateAggregate,
)

ZONE_KEY = "availability_zone"


def aggregate_from_row(row: dict[str, Any]) -> Aggregate:
    return model_from_row(Aggregate, row, hosts=tuple(row["hosts"]))


async def _locked(conn: Connection, number: int) -> dict[str, Any]:
    row = await admin_aggregates.get_by_number(conn, number, lock=True)
    if row is None:
        raise NotFound(f"Aggregate {number} could not be found.")
    return row


async def _zone_clash(
    conn: Connection, row: dict[str, Any], zone: str | None, hosts: Sequence[str]
) -> str | None:
    """Why giving `hosts` the zone `zone` through this aggregate would put one of them
    in two zones (None when it would not)."""
    if zone is None:
        return None
    for host, zones in sorted((await admin_aggregates.other_zones(conn, row["id"], hosts)).items()):
        others = zones - {zone}
        if others:
            return (
                f"host {host} is in availability zone {sorted(others)[0]} already; "
                f"a host is in one availability zone at most"
            )
    return None


class AggregateAPI:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def list_aggregates(self, ctx: RequestContext, req: ListAggregates) -> AggregatesReply:
        require_admin(ctx, "listing aggregates")
        async with self._pool.acquire() as conn:
            rows = await admin_aggregates.list_aggregates(conn)
        return AggregatesReply(aggregates=tuple(aggregate_from_row(row) for row in rows))

    @rpc
    async def get_aggregate(self, ctx: RequestContext, req: GetAggregate) -> AggregateReply:
        require_admin(ctx, "showing aggregates")
        async with self._pool.acquire() as conn:
            row = await admin_aggregates.get_by_number(conn, req.number)
        if row is None:
            raise NotFound(f"Aggregate {req.number} could not be found.")
        return AggregateReply(aggregate=aggregate_from_row(row))

    @rpc
    async def create_aggregate(self, ctx: RequestContext, req: CreateAggregate) -> AggregateReply:
        require_admin(ctx, "creating aggregates")
        metadata = {ZONE_KEY: req.availability_zone} if req.availability_zone else {}
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                created = await aggregates.create_aggregate(conn, req.name, metadata)
            except asyncpg.UniqueViolationError:
                raise Conflict(f"Aggregate {req.name} already exists.") from None
            row = await admin_aggregates.get_by_number(conn, created["number"])
        assert row is not None
        return AggregateReply(aggregate=aggregate_from_row(row))

    @rpc
    async def update_aggregate(self, ctx: RequestContext, req: UpdateAggregate) -> AggregateReply:
        require_admin(ctx, "updating aggregates")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, req.number)
            if req.name is not None and req.name != row["name"]:
                try:
                    await admin_aggregates.rename(conn, row["id"], req.name)
                except asyncpg.UniqueViolationError:
                    raise Conflict(f"Aggregate {req.name} already exists.") from None
            if req.availability_zone is not None:
                await self._set_metadata(conn, row, {ZONE_KEY: req.availability_zone})
            found = await admin_aggregates.get_by_number(conn, req.number)
        assert found is not None
        return AggregateReply(aggregate=aggregate_from_row(found))

    @rpc
    async def delete_aggregate(self, ctx: RequestContext, req: DeleteAggregate) -> None:
        require_admin(ctx, "deleting aggregates")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, req.number)
            if row["hosts"]:
                raise InvalidInput(
                    f"Cannot remove aggregate {req.number}: it still has hosts "
                    f"{', '.join(row['hosts'])}."
                )
            await aggregates.delete_aggregate(conn, row["id"])

    @rpc
    async def change_aggregate_host(
        self, ctx: RequestContext, req: ChangeAggregateHost
    ) -> AggregateReply:
        require_admin(ctx, "changing aggregate hosts")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, req.number)
            if not await admin_aggregates.host_exists(conn, req.host):
                raise NotFound(f"Compute host {req.host} could not be found.")
            if req.add:
                if req.host in row["hosts"]:
                    raise Conflict(f"Aggregate {req.number} already has host {req.host}.")
                clash = await _zone_clash(conn, row, row["availability_zone"], [req.host])
                if clash:
                    raise Conflict(f"Cannot add host to aggregate {req.number}: {clash}.")
                await aggregates.add_host(conn, row["id"], req.host)
            elif not await aggregates.remove_host(conn, row["id"], req.host):
                raise NotFound(f"Cannot remove host {req.host} from aggregate {req.number}.")
            found = await admin_aggregates.get_by_number(conn, req.number)
        assert found is not None
        return AggregateReply(aggregate=aggregate_from_row(found))

    @rpc
    async def set_aggregate_metadata(
        self, ctx: RequestContext, req: SetAggregateMetadata
    ) -> AggregateReply:
        require_admin(ctx, "setting aggregate metadata")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, req.number)
            await self._set_metadata(conn, row, req.metadata)
            found = await admin_aggregates.get_by_number(conn, req.number)
        assert found is not None
        return AggregateReply(aggregate=aggregate_from_row(found))

    async def _set_metadata(
        self, conn: Connection, row: dict[str, Any], metadata: dict[str, str | None]
    ) -> None:
        """Set and remove keys; InvalidInput (400, as Nova) when the new zone would put
        one of the aggregate's hosts in two zones."""
        if ZONE_KEY in metadata:
            clash = await _zone_clash(conn, row, metadata[ZONE_KEY], row["hosts"])
            if clash:
                raise InvalidInput(f"Cannot update aggregate {row['number']}: {clash}.")
        await aggregates.update_metadata(
            conn,
            row["id"],
            {k: v for k, v in metadata.items() if v is not None},
            [k for k, v in metadata.items() if v is None],
        )
