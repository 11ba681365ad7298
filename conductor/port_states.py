"""Port state changes for servers' interfaces, shared by the API, the fact ingestion
and the deadline sweep; each runs in the caller's transaction with its quota usage and
outbox notification, and is a no-op (False) when the port's task is not the expected
one.

    attach:  port DOWN, task attaching --port.active--> ACTIVE (interface_attach.end)
    detach:  task detaching --port.down--> deleted, IP freed, quota released
             (a port the user brought is unbound instead) (interface_detach.end)
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from conductor.db.queries import ports, quotas
from conductor.db.types import Connection
from conductor.device_notify import instance_device_event


def _server_of(port: dict[str, Any]) -> UUID | None:
    try:
        return UUID(port["device_id"])
    except ValueError:
        return None


async def _notify(
    conn: Connection, event: str, port: dict[str, Any], request_id: str | None
) -> None:
    server = _server_of(port)
    if server is not None:
        await instance_device_event(conn, event, server, request_id, port_id=port["id"])


async def remove(conn: Connection, port: dict[str, Any]) -> None:
    """Delete a port the conductor created (IP freed, quota back) or unbind the user's."""
    if port["preserve_on_delete"]:
        await ports.unbind_port(conn, port["id"])
        return
    await ports.delete_port(conn, port["id"])
    await quotas.release(conn, port["project_id"], {"ports": 1})


async def active(conn: Connection, port_id: UUID, request_id: str | None) -> bool:
    port = await ports.get_port(conn, port_id, for_update=True)
    if port is None:
        return False
    if port["task_state"] == "attaching":
        await ports.update_port(
            conn, port_id, status="ACTIVE", task_state=None, task_deadline=None, vif_type="ovs"
        )
        await _notify(conn, "instance.interface_attach.end", port, request_id)
    elif port["task_state"] is None:
        await ports.update_port(conn, port_id, status="ACTIVE")
    return True


async def down(conn: Connection, port_id: UUID, request_id: str | None) -> bool:
    port = await ports.get_port(conn, port_id, for_update=True)
    if port is None:
        return False
    if port["task_state"] == "detaching":
        await remove(conn, port)
        await _notify(conn, "instance.interface_detach.end", port, request_id)
    elif port["task_state"] is None:
        await ports.update_port(conn, port_id, status="DOWN")
    return True


async def rollback_attach(conn: Connection, port_id: UUID, request_id: str | None) -> bool:
    """The interface was not plugged: the port goes (or is unbound) again."""
    port = await ports.get_port(conn, port_id, for_update=True)
    if port is None or port["task_state"] != "attaching":
        return False
    await remove(conn, port)
    await _notify(conn, "instance.interface_attach.error", port, request_id)
    return True


async def rollback_detach(conn: Connection, port_id: UUID, request_id: str | None) -> bool:
    """The interface was not unplugged: the port stays the server's, as it was."""
    port = await ports.get_port(conn, port_id, for_update=True)
    if port is None or port["task_state"] != "detaching":
        return False
    await ports.update_port(conn, port_id, task_state=None, task_deadline=None)
    await _notify(conn, "instance.interface_detach.error", port, request_id)
    return True
