"""Opening ovsdbapp connections (blocking: call from a worker thread).

ovsdbapp keeps the connection of its API classes in a class attribute, so a second API
object of the same class silently reuses the first one's server. Each API here gets a
class of its own, so one process may talk to several Open vSwitch databases (the
chassis of the test stacks, or several agents in one process).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.open_vswitch import impl_idl as ovs_impl

TIMEOUT_S = 10


def open_connection(
    remote: str,
    schema: str,
    tables: Sequence[str] = (),
    idl: Any = None,
    timeout_s: float = TIMEOUT_S,
) -> connection.Connection:
    """A started connection to `remote` (`unix:/path` or `tcp:ip:port`) monitoring
    `tables` (all when empty); `idl` is an already made Idl to use instead."""
    if idl is None:
        idl = connection.OvsdbIdl.from_server(remote, schema, helper_tables=list(tables) or None)
    conn = connection.Connection(idl=idl, timeout=timeout_s)
    conn.start()
    return conn


def ovs_api(remote: str, timeout_s: float = TIMEOUT_S) -> Any:
    """The Open_vSwitch API (ovs-vsctl's commands) on a connection of its own."""
    conn = open_connection(remote, "Open_vSwitch", ("Open_vSwitch", "Bridge", "Port", "Interface"))
    own = type(f"OvsApi_{id(conn):x}", (ovs_impl.OvsdbIdl,), {"_ovsdb_connection": None})
    return own(conn)


def close(api_or_conn: Any) -> None:
    conn = getattr(api_or_conn, "ovsdb_connection", api_or_conn)
    if conn is not None:
        conn.stop(timeout=TIMEOUT_S)
