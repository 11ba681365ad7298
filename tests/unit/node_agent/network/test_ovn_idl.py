"""The NB connection's transaction helper and its error mapping (no OVSDB server needed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from node_agent.drivers.errors import TransientError
from node_agent.drivers.network.ovn import OvnNetwork
from node_agent.drivers.network.ovn_idl import Tx
from node_agent.drivers.real_options import OvnOptions


class FakeRow(SimpleNamespace):
    pass


def tx() -> Tx:
    return Tx(api=None, txn=None)


def test_set_writes_only_what_differs_and_counts_it() -> None:
    ref = FakeRow(uuid=uuid4())
    row = FakeRow(name="a", external_ids={"k": "v"}, ports=[ref], tag=[])
    t = tx()
    assert t.set(row, name="a", external_ids={"k": "v"}, ports=[FakeRow(uuid=ref.uuid)]) is False
    assert t.changes == 0
    assert t.set(row, ports=[], tag=[5]) is True
    assert (row.ports, row.tag, t.changes) == ([], [5], 1)


def test_sets_compare_without_order() -> None:
    row = FakeRow(port_security=["b", "a"])
    t = tx()
    assert t.set(row, port_security=["a", "b"]) is False


async def test_an_unreachable_northbound_is_a_transient_error(tmp_path: Path) -> None:
    driver = OvnNetwork.connect(f"unix:{tmp_path}/nb.sock")
    with pytest.raises(TransientError, match="OVN northbound"):
        await driver.list_ports()


def test_the_agent_needs_the_northbound_address() -> None:
    with pytest.raises(ValueError, match="--ovn-nb"):
        OvnNetwork.from_options(OvnOptions(), "cmp1")
    driver: Any = OvnNetwork.from_options(OvnOptions(nb="tcp:127.0.0.1:1", chassis="gw1"), "h")
    assert driver.gateway_chassis == ("gw1",)
