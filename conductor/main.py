"""Wiring of one conductor process: settings -> pool, bus, services -> runner."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import asyncpg

from conductor.actions import ServerActions
from conductor.api_adapter import ApiAdapter
from conductor.audit_service import AuditService
from conductor.build import Builds
from conductor.catalog import Catalog
from conductor.compute_admin_services import compute_admin_services
from conductor.db import migrate
from conductor.db.pool import open_pool
from conductor.device_services import DeviceServices
from conductor.event_replay import EventReplay
from conductor.hosts import HostRegistry
from conductor.identity_admin import IdentityAdmin
from conductor.identity_roles import RoleAdmin
from conductor.ingest import FactIngestor
from conductor.move_facts import Moves
from conductor.moves import MoveDeps
from conductor.network_api_services import network_api_services
from conductor.network_sync import NetworkSync
from conductor.networks import NetworkAPI
from conductor.placement import Placement
from conductor.placement_explain import PlacementExplainer
from conductor.relay import OutboxRelay
from conductor.server_extras import ServerExtras
from conductor.server_extras_activity import ServerActivity
from conductor.servers import ServerAPI
from conductor.status import StatusReporter
from conductor.storage_api import ImageAPI
from conductor.storage_api_quotas import VolumeQuotaAPI
from conductor.storage_api_volumes import BlockStorageAPI
from conductor.sweep import DeadlineSweep
from conductor.tokens import TokenAPI
from corebus.bus import Bus
from corebus.client import Client
from corebus.config import Settings
from corebus.metrics import serve_metrics
from corebus.service import ServiceRunner
from corebus.transport import make_bus

log = logging.getLogger(__name__)


class SchemaNotReady(RuntimeError):
    pass


def conductor_services(pool: asyncpg.Pool, bus: Bus, settings: Settings) -> list[Any]:
    """Every service object of one conductor, wired explicitly."""
    conf = settings.conductor
    client = Client(bus)
    relay = OutboxRelay(pool, bus)
    image_dir = Path(conf.image_dir) if conf.image_dir else settings.home / "images"
    builds = Builds(
        pool,
        client,
        max_attempts=conf.max_attempts,
        schedule_timeout_s=conf.schedule_timeout_s,
        spawn_timeout_s=conf.spawn_timeout_s,
        image_dir=image_dir,
        vif_plug_timeout_s=conf.vif_plug_timeout_s,
    )
    moves = Moves(  # resize, migrate, confirm/revert, rebuild
        MoveDeps(
            pool,
            client,
            action_timeout_s=conf.action_timeout_s,
            schedule_timeout_s=conf.schedule_timeout_s,
            image_dir=image_dir,
            on_commit=relay.wake,
        )
    )
    servers = ServerAPI(
        pool,
        client,
        builds,
        schedule_timeout_s=conf.schedule_timeout_s,
        action_timeout_s=conf.action_timeout_s,
        on_commit=relay.wake,
    )
    actions = ServerActions(
        pool,
        client,
        action_timeout_s=conf.action_timeout_s,
        on_commit=relay.wake,
        moves=moves.starters(),
    )
    catalog = Catalog(pool)
    networks_api = NetworkAPI(pool)
    devices = DeviceServices.wire(pool, client, conf, relay.wake)
    network_sync = NetworkSync(pool, client)  # OVN drift repair from the database's intent
    return [
        HostRegistry(
            pool, conf.heartbeat_interval_s, conf.down_after_s, network_sync.host_registered
        ),
        Placement(pool, conf.down_after_s),
        PlacementExplainer(pool, client, timeout_s=conf.schedule_timeout_s),
        servers,
        actions,
        catalog,
        networks_api,
        ApiAdapter(
            pool,
            bus,
            servers,
            actions,
            catalog,
            {**devices.api_calls(), **networks_api.api_calls()},
        ),
        *devices.services(),
        TokenAPI(pool, conf.token_ttl_s),
        # gateway-facing APIs (one line per service object; keep this block sorted by area)
        *network_api_services(pool, client),
        network_sync,
        *compute_admin_services(pool, conf.down_after_s),
        EventReplay(
            pool,
            retention_s=conf.notification_retention_s,
            retention_count=conf.notification_retention_count,
            purge_interval_s=conf.notification_purge_interval_s,
        ),
        IdentityAdmin(pool),
        RoleAdmin(pool),
        ServerExtras(pool, conf.down_after_s),
        ServerActivity(pool, client, timeout_s=conf.action_timeout_s),
        ImageAPI(pool),
        BlockStorageAPI(pool, client, timeout_s=conf.action_timeout_s, on_commit=relay.wake),
        VolumeQuotaAPI(pool),
        FactIngestor(pool, builds, on_commit=relay.wake, moves=moves),
        DeadlineSweep(
            pool, builds, interval_s=conf.sweep_interval_s, on_commit=relay.wake, moves=moves
        ),
        relay,
        AuditService(pool, bus, interval_s=conf.audit_interval_s, repair=conf.audit_repair),
        StatusReporter(pool, conf.status_log_interval_s, conf.down_after_s),
    ]


async def run_conductor(settings: Settings, transport: str = "amqp") -> None:
    pending = [s.label for s in await migrate.status(settings.database.dsn) if s.state != "applied"]
    if pending:
        raise SchemaNotReady(
            f"the database is not migrated ({', '.join(pending)}): run `skymesh db upgrade`"
        )
    async with open_pool(settings.database, role="conductor") as pool:
        bus = make_bus(
            settings.amqp,
            name=f"conductor@{socket.gethostname()}:{os.getpid()}",
            transport=transport,
        )
        await bus.start()
        port = serve_metrics(settings.metrics)
        runner = ServiceRunner(bus, conductor_services(pool, bus, settings))
        log.info(
            "conductor serving on %s%s",
            _safe_url(settings.amqp.url),
            f", metrics on :{port}" if port else "",
        )
        try:
            await runner.run_until_stopped()
        finally:
            await bus.close()
        log.info("conductor stopped")


def _safe_url(url: str) -> str:
    """The broker URL without its password, for logs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
