"""Every bus message of skymesh, one module per party and topic.

Importing this package registers all messages in schemas.base.MESSAGES, which the
runtime uses to look a message up by name and the fingerprint test to watch fields.
"""

from __future__ import annotations

from schemas.base import MESSAGES, Message
from schemas.messages import (
    agent_compute,
    agent_devices,
    agent_network,
    agent_storage,
    common,
    conductor_actions,
    conductor_catalog,
    conductor_compute_admin,
    conductor_events,
    conductor_hosts,
    conductor_identity,
    conductor_identity_admin,
    conductor_network_api,
    conductor_networks,
    conductor_placement,
    conductor_server_extras,
    conductor_servers,
    conductor_storage_api,
    conductor_volumes,
    facts,
    host_facts,
    notifications,
    scheduler,
)

MODULES = (
    common,
    conductor_servers,
    conductor_placement,
    conductor_volumes,
    conductor_actions,
    conductor_catalog,
    conductor_hosts,
    conductor_networks,
    conductor_identity,
    conductor_identity_admin,
    conductor_server_extras,
    conductor_compute_admin,
    conductor_network_api,
    conductor_storage_api,
    conductor_events,
    scheduler,
    agent_compute,
    agent_devices,
    agent_network,
    agent_storage,
    facts,
    host_facts,
    notifications,
)


def all_messages() -> dict[str, type[Message]]:
    """Every message model skymesh defines, by name, sorted by name (models registered
    from elsewhere, e.g. by tests, are left out)."""
    return {
        name: model
        for name, model in sorted(MESSAGES.items())
        if model.__module__.startswith("schemas.")
    }
