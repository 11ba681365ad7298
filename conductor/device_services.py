"""Wiring of the conductor's volume and device services (volumes, attachments,
interfaces, their fact ingestion and deadline sweep), and their AMQP API commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from conductor.api_adapter import Call, no_key
from conductor.device_sweep import DeviceSweep
from conductor.ingest_devices import DeviceFactIngestor
from conductor.interfaces import InterfaceAPI
from conductor.volume_attach import VolumeAttachAPI
from conductor.volumes import VolumeAPI
from corebus.client import Client
from corebus.config import ConductorSettings
from corebus.envelope import RequestContext
from schemas.base import Message


@dataclass(frozen=True)
class DeviceServices:
    volumes: VolumeAPI
    attachments: VolumeAttachAPI
    interfaces: InterfaceAPI
    ingest: DeviceFactIngestor
    sweep: DeviceSweep

    @classmethod
    def wire(
        cls,
        pool: asyncpg.Pool,
        client: Client,
        conf: ConductorSettings,
        on_commit: Callable[[], None],
    ) -> DeviceServices:
        """Every device task (create, delete, attach, detach) has `action_timeout_s`."""
        timeout = conf.action_timeout_s
        return cls(
            VolumeAPI(pool, client, timeout_s=timeout, on_commit=on_commit),
            VolumeAttachAPI(pool, client, timeout_s=timeout, on_commit=on_commit),
            InterfaceAPI(pool, client, timeout_s=timeout, on_commit=on_commit),
            DeviceFactIngestor(pool, on_commit=on_commit),
            DeviceSweep(pool, interval_s=conf.sweep_interval_s, on_commit=on_commit),
        )

    def services(self) -> list[Any]:
        return [self.volumes, self.attachments, self.interfaces, self.ingest, self.sweep]

    def api_calls(self) -> dict[str, Call]:
        """The AMQP API commands these services answer (conductor/api_adapter.py)."""
        handlers: dict[str, Callable[[RequestContext, Any], Awaitable[Message]]] = {
            "servers.attach_volume": self.attachments.attach_volume,
            "servers.detach_volume": self.attachments.detach_volume,
            "servers.attach_interface": self.interfaces.attach_interface,
            "servers.detach_interface": self.interfaces.detach_interface,
            "volumes.create": self.volumes.create_volume,
            "volumes.delete": self.volumes.delete_volume,
            "volumes.get": self.volumes.get_volume,
            "volumes.list": self.volumes.list_volumes,
        }
        return {name: no_key(handler) for name, handler in handlers.items()}
