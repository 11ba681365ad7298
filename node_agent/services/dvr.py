"""Compute-role DVR handlers, and the DVR lifecycle of an agent.

With the dvr backend the conductor mirrors every network command to the compute hosts
(conductor/dvr_mirror.py). `dvr_service` takes them under `node_agent.<host>` and lets a
`DvrNetwork` in compute mode build this host's part: the bridges of its ports' networks
and the qrouter/fip namespaces of the routers they are on. `start_dvr` starts the host's
DVR driver (it adopts what exists) and gives the network role's `dvr` driver its DVR
driver; `stop_dvr` closes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from node_agent.drivers.dvr.base import DvrDriver
from node_agent.drivers.network.dvr import DvrNetwork
from node_agent.drivers.registry import Drivers
from node_agent.services.network import NetworkService

log = logging.getLogger(__name__)


def dvr_service(name: str, dvr: DvrDriver, state_dir: Path, host: str) -> NetworkService:
    """The mirrored network commands on a compute host: a `DvrNetwork` in compute mode
    behind the network role's handlers, reporting no facts (the network agent reports
    the ports)."""
    network = DvrNetwork(state_dir, host=host)
    network.attach(dvr)
    return NetworkService(name, network)


def _report(text: str) -> None:
    log.warning("dvr repair: %s", text)


async def start_dvr(drivers: Drivers) -> None:
    if drivers.dvr is None:
        return
    await drivers.dvr.start(_report)
    if isinstance(drivers.network, DvrNetwork):
        drivers.network.attach(drivers.dvr)


async def stop_dvr(drivers: Drivers) -> None:
    if drivers.dvr is not None:
        await drivers.dvr.close()
