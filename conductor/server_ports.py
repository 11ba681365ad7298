"""Creating a port for a server on a network, shared by the boot (conductor/boot_ports.py)
and the interface attach (conductor/interfaces.py): the network must be the project's
or shared, the port counts against the `ports` quota, and it gets a unique MAC and an
address from the subnet pool, race-free (conductor/db/queries/ports.py create_port).
Call it inside the caller's transaction: a refusal rolls everything back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from conductor import ipam
from conductor.db.queries import networks, ports
from conductor.db.types import Connection
from conductor.quota import charge
from schemas.errors import Conflict, InvalidInput, NotFound

DEVICE_OWNER = "compute:nova"


async def create_server_port(
    conn: Connection,
    *,
    network_id: UUID,
    server_id: UUID,
    project_id: UUID,
    binding_host: str | None = None,
    fixed_ip: str | None = None,
    task_state: str | None = None,
    task_deadline: datetime | None = None,
) -> dict[str, Any]:
    """A new port of server `server_id` on `network_id`. NotFound when the project may
    not use the network, Conflict when no address (or the one asked for) is free,
    InvalidInput when the address asked for is not on the network."""
    net = await networks.get_network(conn, network_id, visible_to=project_id)
    if net is None:
        raise NotFound(f"Network {network_id} could not be found.", network_id=str(network_id))
    await charge(conn, project_id, {"ports": 1})
    try:
        return await ports.create_port(
            conn,
            network_id=network_id,
            project_id=project_id,
            device_id=str(server_id),
            device_owner=DEVICE_OWNER,
            binding_host=binding_host,
            fixed_ip=fixed_ip,
            task_state=task_state,
            task_deadline=task_deadline,
        )
    except ports.NoFreeAddress:
        raise Conflict(
            f"no free IP address is left on network {network_id}",
            kind="IpAddressGenerationFailure",
        ) from None
    except (ports.AddressInUse, ports.NoFreeMac) as exc:
        raise Conflict(str(exc)) from None
    except ipam.AddressError as exc:
        raise InvalidInput(str(exc)) from None
