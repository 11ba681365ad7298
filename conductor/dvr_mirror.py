"""The dvr network backend: network commands go to the compute hosts too.

On OVN the network agent writes the northbound and every chassis follows. The namespace
DVR has no such database: each compute host builds its own part of the routers its
ports are on (qrouter and fip namespaces, docs/dvr.md). So, when the deployment's
network backend is dvr, every command the conductor sends to "any network agent" is
cast unchanged to each DVR compute host as well, as `node_agent.<host>.<method>`; each
host keeps what it is told and builds only its own part. The setting:
`SKYMESH_NETWORK_BACKEND=dvr` with `SKYMESH_DVR_COMPUTE_HOSTS=compute-1,compute-2`, or
the file `$SKYMESH_HOME/dvr-backend.json` (`{"compute_hosts": [...]}`, written by
`skymesh up --network dvr`). Without either nothing is mirrored, so the OVN and fake
paths are unchanged.
"""

from __future__ import annotations

import json
import logging
import os

from corebus.client import Client
from corebus.config import default_home
from corebus.envelope import RequestContext
from schemas.base import Message

log = logging.getLogger(__name__)
BACKEND_ENV = "SKYMESH_NETWORK_BACKEND"
HOSTS_ENV = "SKYMESH_DVR_COMPUTE_HOSTS"
SETTING_FILE = "dvr-backend.json"
MIRRORED = frozenset(
    f"{verb}_{kind}"
    for verb in ("ensure", "delete")
    for kind in ("network", "port", "router", "floating_ip", "security_group")
)


def compute_hosts() -> tuple[str, ...]:
    """The compute hosts to mirror to; none unless the backend is dvr."""
    if os.environ.get(BACKEND_ENV) == "dvr":
        return tuple(h.strip() for h in os.environ.get(HOSTS_ENV, "").split(",") if h.strip())
    try:
        setting = json.loads((default_home() / SETTING_FILE).read_text())
    except (OSError, ValueError):
        return ()
    return tuple(str(h) for h in setting.get("compute_hosts", ()))


async def mirror(client: Client, command: Message, context: RequestContext | None) -> None:
    """Cast a network-agent command to every DVR compute host too (best effort: a host
    that misses one gets the state again with the next command about that object)."""
    family, _, method = command.message_name.rpartition(".")
    if family != "node_agent.network" or method not in MIRRORED:
        return
    for host in compute_hosts():
        try:
            await client.cast(f"node_agent.{host}.{method}", command, context=context)
        except Exception as exc:
            log.warning("dvr: %s not mirrored to %s: %s", method, host, exc)
