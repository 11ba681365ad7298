"""The OVN northbound connection: ovsdbapp's IDL in its own thread, driven from asyncio.

ovsdbapp is thread-based. `NbConnection.apply(fn)` runs `fn(tx)` inside one NB transaction on
the IDL thread (awaited through `asyncio.to_thread`), so a whole `ensure_*` reads the cached
rows and writes its changes atomically. `Tx` wraps the python-ovs transaction: `set` writes
only the columns that differ (so an ensure that finds everything in place writes nothing and
`tx.changes` stays 0, which is how reconciliation tells drift from no drift).

`NbConnection.watch(table, callback)` bridges IDL row events (a `RowEvent` on ovsdbapp's
notify thread) to the event loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ovs.db import data
from ovsdbapp.backend.ovs_idl import command, connection, event, idlutils
from ovsdbapp.schema.ovn_northbound import impl_idl

from node_agent.drivers.errors import DriverError, TransientError

T = TypeVar("T")
Row = Any  # an ovs.db.idl.Row: untyped
RowCallback = Callable[[str, Row], None]


class _Idl(connection.OvsdbIdl):
    """An IDL that hands every row change to a RowEventHandler (its own notify thread)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notify_handler = event.RowEventHandler()

    def notify(self, event: str, row: Row, updates: Row | None = None) -> None:
        self.notify_handler.notify(event, row, updates)


class _LoopBridge(event.RowEvent):
    """Every create/update/delete of `table`, passed to `callback` on the event loop."""

    def __init__(self, table: str, loop: asyncio.AbstractEventLoop, callback: RowCallback):
        events = (self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE)
        super().__init__(events, table, None)
        self._loop, self._callback = loop, callback
        self.event_name = f"skymesh-{table}-{id(self)}"

    def run(self, event: str, row: Row, old: Row) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._callback, event, row)


class _Apply(command.BaseCommand):
    """A command whose body is a Python function of the live transaction."""

    def __init__(self, api: Any, fn: Callable[[Tx], Any]) -> None:
        super().__init__(api)
        self._fn = fn

    def run_idl(self, txn: Any) -> None:
        self.result = self._fn(Tx(self.api, txn))


def _default(column: Any) -> Any:
    """A column's default as a python value ([] / {} for sets and maps, 0, "", False)."""
    return data.Datum.default(column.type).to_python(
        lambda atom, _type: getattr(atom, "value", atom)
    )


def _norm(value: Any) -> Any:
    """A column value in a comparable form: rows as their UUIDs, sets sorted."""
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return sorted((_norm(v) for v in value), key=str)
    uid = getattr(value, "uuid", None)
    if isinstance(uid, uuid.UUID):
        return uid
    return value


class Tx:
    """One NB transaction: cached rows to read, inserts/updates/deletes to write."""

    def __init__(self, api: Any, txn: Any) -> None:
        self._api, self._txn = api, txn
        self.changes = 0

    def rows(self, table: str) -> list[Row]:
        return list(self._api.tables[table].rows.values())

    def find(self, table: str, **external_ids: str) -> list[Row]:
        """The rows of `table` whose external_ids hold all the given key=value pairs."""
        want = {k.replace("__", ":"): v for k, v in external_ids.items()}
        return [
            row
            for row in self.rows(table)
            if all(row.external_ids.get(k) == v for k, v in want.items())
        ]

    def one(self, table: str, **external_ids: str) -> Row | None:
        found = self.find(table, **external_ids)
        return found[0] if found else None

    def by_name(self, table: str, name: str) -> Row | None:
        return next((row for row in self.rows(table) if row.name == name), None)

    def insert(self, table: str, **columns: Any) -> Row:
        schema = self._api.tables[table]
        row = self._txn.insert(schema)
        # a new python-ovs row raises on any column never set: start from the defaults
        for name, column in schema.columns.items():
            value = columns[name] if name in columns else _default(column)
            setattr(row, name, value)
        self.changes += 1
        return row

    def set(self, row: Row, **columns: Any) -> bool:
        """Write the columns whose value differs; True when something was written."""
        wrote = False
        for column, value in columns.items():
            if _norm(getattr(row, column)) != _norm(value):
                setattr(row, column, value)
                wrote = True
        self.changes += wrote
        return wrote

    def add_ref(self, row: Row, column: str, ref: Row) -> None:
        if ref.uuid not in {r.uuid for r in getattr(row, column)}:
            row.addvalue(column, ref)
            self.changes += 1

    def drop_ref(self, row: Row, column: str, ref: Row) -> None:
        if ref.uuid in {r.uuid for r in getattr(row, column)}:
            row.delvalue(column, ref)
            self.changes += 1

    def delete(self, row: Row) -> None:
        row.delete()
        self.changes += 1


class NbConnection:
    """A connection to one OVN northbound database (`tcp:...`, `ssl:...`, `unix:...`)."""

    def __init__(self, remote: str, timeout: float = 30) -> None:
        self.remote, self._timeout = remote, timeout
        self._api: Any = None
        self._lock = threading.Lock()
        self._bridges: list[_LoopBridge] = []

    def _connect(self) -> Any:
        with self._lock:
            if self._api is None:
                idl = _Idl.from_server(self.remote, "OVN_Northbound")
                conn = connection.Connection(idl, timeout=self._timeout)
                # ovsdbapp keeps the connection on the API *class*: one class per connection
                api_class = type("SkymeshNbApi", (impl_idl.OvnNbApiIdlImpl,), {})
                self._api = api_class(conn)
            return self._api

    def _run(self, fn: Callable[[Tx], T], read_only: bool) -> T:
        api = self._connect()
        cmd = _Apply(api, fn)
        if read_only:
            with api.ovsdb_connection.lock:
                cmd.run_idl(None)
            return cmd.result
        with api.transaction(check_error=True, log_errors=False) as txn:
            txn.add(cmd)
        return cmd.result

    def _run_mapped(self, fn: Callable[[Tx], T], read_only: bool) -> T:
        """_run, with an unreachable or failing NB as a TransientError (worth retrying)."""
        try:
            return self._run(fn, read_only)
        except DriverError:
            raise
        except (AssertionError, AttributeError, TypeError, ValueError, KeyError):
            raise  # a bug of ours: let it show as one
        except Exception as exc:  # ovsdbapp timeouts, OVSDB errors, connection failures
            raise TransientError(f"OVN northbound {self.remote}: {exc}") from exc

    async def apply(self, fn: Callable[[Tx], T]) -> T:
        """`fn(tx)` in one NB transaction, on a worker thread."""
        return await asyncio.to_thread(self._run_mapped, fn, False)

    async def read(self, fn: Callable[[Tx], T]) -> T:
        """`fn(tx)` over the cached rows, no transaction (it must not write)."""
        return await asyncio.to_thread(self._run_mapped, fn, True)

    async def watch(self, table: str, callback: RowCallback) -> Callable[[], None]:
        """Call `callback(event, row)` on this loop for every change of `table`; returns
        the function that stops watching."""
        api = await asyncio.to_thread(self._connect)
        bridge = _LoopBridge(table, asyncio.get_running_loop(), callback)
        handler = api.idl.notify_handler
        handler.watch_event(bridge)
        self._bridges.append(bridge)

        def stop() -> None:
            handler.unwatch_event(bridge)

        return stop

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                for bridge in self._bridges:
                    self._api.idl.notify_handler.unwatch_event(bridge)
                self._api.idl.notify_handler.shutdown()
                self._api.ovsdb_connection.stop()
                self._api = None


def frozen(row: Row) -> Any:
    """A thread-safe snapshot of a row (a namedtuple of its columns)."""
    return idlutils.frozen_row(row)


def iter_external(rows: list[Row], key: str) -> Iterator[tuple[str, Row]]:
    """(value of external_ids[key], row) for the rows that carry `key`."""
    for row in rows:
        value = row.external_ids.get(key)
        if value is not None:
            yield value, row
