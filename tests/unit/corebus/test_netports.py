"""Ports for listeners started later come from below the kernel's ephemeral range, where no
client connection on the machine can take them in the meantime."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from corebus import netports


def test_the_port_is_free_and_below_the_ephemeral_range() -> None:
    start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    port = netports.free_port()
    assert netports.LOWEST <= port < start
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_never_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        taken.listen()
        ports = iter([busy, busy, busy + 1 if busy + 1 < 65536 else busy - 1])
        monkeypatch.setattr(netports.random, "randrange", lambda low, top: next(ports))
        assert netports.free_port() != busy


def test_it_says_so_when_every_try_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        monkeypatch.setattr(netports.random, "randrange", lambda low, top: busy)
        with pytest.raises(OSError, match="no free TCP port"):
            netports.free_port(attempts=3)
