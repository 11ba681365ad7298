"""Choosing a transport from settings: the only place that names both."""

from __future__ import annotations

from corebus.amqp.bus import AmqpBus
from corebus.bus import Bus
from corebus.config import AmqpSettings
from corebus.memory import InMemoryBus
from corebus.signing import signing_options


def make_bus(settings: AmqpSettings, *, name: str, transport: str = "amqp") -> Bus:
    if transport == "memory":
        return InMemoryBus(
            prefetch=settings.prefetch,
            delivery_limit=settings.delivery_limit,
            call_timeout=settings.call_timeout_s,
        )
    if transport != "amqp":
        raise ValueError(f"unknown transport {transport!r} (amqp or memory)")
    return AmqpBus(
        settings.url,
        name=name,
        prefetch=settings.prefetch,
        delivery_limit=settings.delivery_limit,
        call_timeout=settings.call_timeout_s,
        publish_timeout=settings.publish_timeout_s,
        event_linger=settings.event_linger_ms / 1000,
        event_batch_max=settings.event_batch_max,
        reconnect_max=settings.reconnect_max_s,
        **signing_options(settings),
    )
