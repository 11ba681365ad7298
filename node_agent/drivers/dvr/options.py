"""Where the namespace DVR driver wires a host: its external bridge, the VXLAN underlay
(this host's address and its peers), and for tests a host that is itself a namespace.

Read from `<state dir>/dvr.json` when present (written by `skymesh up --network dvr` or an
operator), otherwise the defaults: the agent's own namespace, `br-ex`, VXLAN without a
fixed local address and no peers.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from pydantic import BaseModel, ConfigDict

OPTIONS_FILE = "dvr.json"


class DvrOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "localhost"  # this host's name; seeds its router interface MACs
    host_netns: str | None = None  # the host's own namespace; None: the agent's
    prefix: str = ""  # put before every namespace name (parallel test runs)
    external_bridge: str = "br-ex"
    underlay_ip: IPv4Address | None = None
    vxlan_peers: tuple[IPv4Address, ...] = ()
    # this host's address on each external subnet (its fip namespace's fg- port), used
    # when a plan does not name one
    fip_hosts: dict[IPv4Network, IPv4Address] = {}

    @classmethod
    def load(cls, state_dir: Path, host: str) -> DvrOptions:
        path = state_dir / OPTIONS_FILE
        data = json.loads(path.read_text()) if path.exists() else {}
        data.setdefault("host", host)
        return cls.model_validate(data)
