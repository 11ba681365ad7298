"""What a server's devices become when the server goes: called by
lifecycle.finish_delete in its transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from conductor import boot_ports, boot_volumes
from conductor.agents import Casts
from conductor.db.types import Connection


async def release(conn: Connection, instance_id: UUID, deadline: datetime) -> Casts:
    """Volumes detached (available again) or, delete_on_termination, deleted; ports
    deleted with their IPs and floating IP associations (or the user's own unbound).
    The agent commands that clean up the network and storage backends, to cast once
    the transaction committed; the hosts' own leftovers (a tap, an RBD mapping) go
    with the domain, or are found in the agents' snapshots."""
    casts = await boot_volumes.release(conn, instance_id, deadline)
    casts += await boot_ports.release(conn, instance_id)
    return casts
