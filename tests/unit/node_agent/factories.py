"""Messages for node agent tests: a Spawn with sensible defaults, ports, volumes."""

from __future__ import annotations

from uuid import UUID, uuid4

from schemas.claims import Claim
from schemas.compute import Flavor, Image, ImageLocation, ImageLocationKind
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.network import Port
from schemas.storage import RbdConnection

FLAVOR = Flavor(id=UUID(int=10), name="m1.tiny", vcpus=1, memory_mb=256, disk_gb=1)
IMAGE = Image(id=UUID(int=11), name="cirros", status="active")
IMAGE_LOCATION = ImageLocation(kind=ImageLocationKind.FILE, path="/var/lib/skymesh/images/cirros")


def port(n: int = 1) -> Port:
    return Port(
        id=uuid4(),
        network_id=UUID(int=100),
        project_id=UUID(int=2),
        mac_address=f"fa:16:3e:00:00:{n:02x}",
    )


def volume(device: str | None = None, boot_index: int | None = None) -> VolumeConnection:
    volume_id = uuid4()
    return VolumeConnection(
        volume_id=volume_id,
        attachment_id=uuid4(),
        device_name=device,
        boot_index=boot_index,
        rbd=RbdConnection(
            pool="volumes",
            image=f"volume-{volume_id}",
            monitors=("127.0.0.1:6789",),
            auth_enabled=False,
        ),
    )


def spawn(
    instance_id: UUID | None = None,
    *,
    name: str = "vm1",
    ports: tuple[Port, ...] = (),
    volumes: tuple[VolumeConnection, ...] = (),
    flavor: Flavor = FLAVOR,
) -> Spawn:
    return Spawn(
        instance_id=instance_id or uuid4(),
        name=name,
        flavor=flavor,
        claim=Claim(vcpus=flavor.vcpus, memory_mb=flavor.memory_mb, disk_gb=flavor.disk_gb),
        image=IMAGE,
        image_location=IMAGE_LOCATION,
        ports=ports,
        volumes=volumes,
    )
