"""The Network API's conductor service objects, wired in one place (conductor/main.py
adds them all)."""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.network_api import NetworkResources
from conductor.network_api_floating import FloatingIpResources
from conductor.network_api_ports import PortResources
from conductor.network_api_routers import RouterResources
from conductor.network_api_security import SecurityGroupResources
from corebus.client import Client


def network_api_services(pool: asyncpg.Pool, client: Client) -> list[Any]:
    return [
        NetworkResources(pool, client),
        PortResources(pool, client),
        SecurityGroupResources(pool, client),
        RouterResources(pool, client),
        FloatingIpResources(pool, client),
    ]
