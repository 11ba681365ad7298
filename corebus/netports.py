"""A TCP port for a process that will listen on it soon, chosen so that nothing else on
the machine takes it in the meantime.

Binding to port 0 returns a port from the kernel's ephemeral range, and that same range is
where every outgoing connection gets its local port: between choosing the port and the
listener binding it, any client connection on the machine may take it (EADDRINUSE). So the
port is drawn at random below the ephemeral range, where the kernel never assigns ports,
and checked free. Standard library only: `scripts/stack/ceph.sh` runs this file directly.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 20000  # above the well-known and most registered service ports


def _ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port(host: str = "127.0.0.1", attempts: int = 200) -> int:
    """A port on `host` that is free now and that the kernel will not hand out itself."""
    top = _ephemeral_start()
    low = LOWEST if top - LOWEST > 1000 else 1024
    for _ in range(attempts):
        port = random.randrange(low, top)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free TCP port on {host} below {top} after {attempts} tries")


if __name__ == "__main__":
    print(free_port())
