"""Counting against a project's quota: all of `deltas` or nothing, at once (the usage is
in use from this transaction on; a rollback gives it back)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from conductor.db.queries import quotas
from conductor.db.types import Connection
from schemas.errors import QuotaExceeded


async def charge(conn: Connection, project_id: UUID, deltas: Mapping[str, int]) -> None:
    """Count `deltas` as used; QuotaExceeded (403) naming the resource when over."""
    try:
        reservation = await quotas.reserve(conn, project_id, deltas)
    except quotas.QuotaExceeded as exc:
        raise QuotaExceeded(str(exc), resource=exc.resource) from None
    await quotas.commit(conn, reservation.id)
