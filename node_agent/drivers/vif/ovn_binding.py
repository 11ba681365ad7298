"""The southbound signal that a port is plugged: OVN's Port_Binding of this chassis.

ovn-controller binds a logical port to its chassis once an OVS Interface carries
`external_ids:iface-id=<port>`, and sets `Port_Binding.up` (OVN 21.03+) once the port's
flows are installed: that is the moment Nova's `network-vif-plugged` stands for. This
watcher keeps an ovsdbapp IDL on the southbound database (its own thread), matches
Port_Binding rows with a RowEvent, and hands each change of "bound here and up" to the
sink on the event loop (`loop.call_soon_threadsafe`): `PortState(port, up=True)` when it
becomes so, `up=False` when it stops (unbound, moved to another chassis, or deleted).
Logical ports whose name is not a UUID (router ports, localnet) are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any
from uuid import UUID

from ovsdbapp.backend.ovs_idl import connection, event, idlutils

from node_agent.drivers.errors import TransientError
from node_agent.drivers.vif import ovsdb
from node_agent.drivers.vif.base import PortState, PortStateSink

log = logging.getLogger(__name__)

# Port_Binding references these; the IDL must know them to follow the references.
TABLES = ("Chassis", "Encap", "Port_Binding", "Datapath_Binding", "Chassis_Private")


def _state(row: Any, chassis: str) -> bool:
    """Whether the row is bound to `chassis` and up."""
    bound = [c.name for c in getattr(row, "chassis", ())]
    up = list(getattr(row, "up", ()))
    return chassis in bound and bool(up and up[0])


def _port_id(row: Any) -> UUID | None:
    try:
        return UUID(str(row.logical_port))
    except ValueError:
        return None


class _BindingEvent(event.RowEvent):
    def __init__(self, watcher: SbPortBindingWatcher) -> None:
        events = (self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE)
        super().__init__(events, "Port_Binding", None)
        self._watcher = watcher

    def run(self, event: str, row: Any, old: Any) -> None:
        self._watcher.observe(row, deleted=event == self.ROW_DELETE)


class _SbIdl(connection.OvsdbIdl):
    def __init__(self, remote: str, helper: Any, handler: event.RowEventHandler) -> None:
        super().__init__(remote, helper)
        self._handler = handler

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        self._handler.notify(event, row, updates)


class SbPortBindingWatcher:
    def __init__(self, sb: str, chassis: str) -> None:
        self.sb, self.chassis = sb, chassis
        self._up: set[UUID] = set()  # the ports reported up (and not down since)
        self._lock = threading.Lock()
        self._sink: PortStateSink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: connection.Connection | None = None
        self._handler: event.RowEventHandler | None = None

    async def start(self, sink: PortStateSink) -> None:
        self._sink, self._loop = sink, asyncio.get_running_loop()
        try:
            await asyncio.to_thread(self._connect)
        except Exception as exc:
            raise TransientError(f"OVN southbound {self.sb}: {exc}") from exc

    def _connect(self) -> None:
        handler = event.RowEventHandler()
        handler.watch_event(_BindingEvent(self))
        helper = idlutils.get_schema_helper(self.sb, "OVN_Southbound")
        for table in TABLES:
            helper.register_table(table)
        self._handler = handler
        idl = _SbIdl(self.sb, helper, handler)
        self._conn = ovsdb.open_connection(self.sb, "OVN_Southbound", idl=idl)
        # rows already there (e.g. after an agent restart): report them too
        with self._conn.lock:
            rows = list(self._conn.idl.tables["Port_Binding"].rows.values())
        for row in rows:
            self.observe(row, deleted=False)

    async def close(self) -> None:
        conn, handler = self._conn, self._handler
        self._conn = self._handler = None
        if conn is not None:
            await asyncio.to_thread(ovsdb.close, conn)
        if handler is not None:
            handler.shutdown()
        self._sink = None

    def up(self) -> set[UUID]:
        with self._lock:
            return set(self._up)

    def observe(self, row: Any, *, deleted: bool) -> None:
        """A Port_Binding row changed (any thread): report a change of its state here."""
        port_id = _port_id(row)
        if port_id is None:
            return
        up = False if deleted else _state(row, self.chassis)
        with self._lock:
            if up == (port_id in self._up):
                return
            if up:
                self._up.add(port_id)
            else:
                self._up.discard(port_id)
        log.info("port %s is %s on chassis %s", port_id, "up" if up else "down", self.chassis)
        sink, loop = self._sink, self._loop
        if sink is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(sink, PortState(port_id, up, self.chassis))
