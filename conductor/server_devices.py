"""What a server's devices become when the server goes: called by
lifecycle.finish_delete in its transaction."""

from __future__ import annotations

from uuid import UUID

from conductor import port_states, volume_states
from conductor.db.types import Connection


async def release(conn: Connection, instance_id: UUID) -> None:
    """Volumes detached (available again), ports deleted with their IPs (or the user's
    own unbound). The hosts' leftovers (an OVN port, an RBD mapping) are cleaned up
    from the agents' snapshots."""
    await volume_states.release_instance(conn, instance_id)
    await port_states.release_instance(conn, instance_id)
