"""The service objects of the compute catalog and operator APIs, wired in one place so
conductor/main.py lists them with one line."""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.compute_admin_aggregates import AggregateAPI
from conductor.compute_admin_flavors import FlavorAdmin
from conductor.compute_admin_hosts import ComputeHostsAPI
from conductor.compute_admin_keypairs import KeyPairAPI
from conductor.compute_admin_quotas import QuotaSetAPI
from conductor.compute_admin_server_groups import ServerGroupAPI


def compute_admin_services(pool: asyncpg.Pool, down_after_s: float) -> list[Any]:
    return [
        FlavorAdmin(pool),
        KeyPairAPI(pool),
        ServerGroupAPI(pool),
        QuotaSetAPI(pool),
        ComputeHostsAPI(pool, down_after_s),
        AggregateAPI(pool),
    ]
