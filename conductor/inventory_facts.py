"""A host's inventory as it changes while the agent runs (`fact.inventory`): PCI VFs
appearing or vanishing, a device spec changed. Registration writes the inventory too;
this keeps the database current between registrations. Newest sequence wins, like every
fact (docs/decisions.md #7); a fact from a host that is not (or no longer) registered
under that id is dropped."""

from __future__ import annotations

import asyncpg

from conductor.db.queries.facts import accept_fact
from conductor.host_inventory import capabilities, save_inventory
from schemas.messages.host_facts import InventoryReported

_HOST = """
SELECT h.id, p.id AS provider_id
FROM hosts h
JOIN resource_providers p ON p.host_id = h.id AND p.parent_provider_id IS NULL
WHERE h.name = $1
FOR UPDATE OF h"""


async def apply_inventory(pool: asyncpg.Pool, fact: InventoryReported) -> bool:
    """Save the reported inventory; False when dropped (unknown host, stale fact)."""
    async with pool.acquire() as conn, conn.transaction():
        host = await conn.fetchrow(_HOST, fact.host)
        if host is None or host["id"] != fact.resource_id:
            return False
        if not await accept_fact(conn, "inventory", fact.resource_id, fact.host, fact.seq):
            return False
        await conn.execute(
            "UPDATE hosts SET capabilities = $2, updated_at = now() WHERE id = $1",
            host["id"],
            dict(capabilities(fact.inventory)),
        )
        await save_inventory(conn, host["id"], host["provider_id"], fact.inventory)
    return True
