"""A compute agent started with `--ceph-user` authenticates to Ceph as that user, whatever
auth the volume connection carries (Nova's `[libvirt] rbd_user`), with a libvirt secret
UUID that is the same for every volume of this host and user."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

from node_agent.drivers.hypervisor.qemu import QemuHypervisor
from schemas.messages.agent_compute import VolumeConnection
from schemas.storage import RbdConnection


def volume() -> VolumeConnection:
    return VolumeConnection(
        volume_id=uuid4(),
        attachment_id=uuid4(),
        rbd=RbdConnection(
            pool="volumes", image="volume-x", monitors=("127.0.0.1:6789",), auth_enabled=False
        ),
    )


def test_without_a_ceph_user_the_connection_is_used_as_it_is(tmp_path: Path) -> None:
    driver = QemuHypervisor("compute-1", tmp_path)
    given = volume()
    assert driver._local_auth(given) == given


def test_a_ceph_user_turns_on_cephx_with_a_stable_secret_per_host(tmp_path: Path) -> None:
    one = QemuHypervisor("compute-1", tmp_path, ceph_user="skymesh")
    first, second = one._local_auth(volume()), one._local_auth(volume())
    assert first.rbd.auth_enabled and first.rbd.user == "skymesh"
    assert isinstance(first.rbd.secret_uuid, UUID)
    assert first.rbd.secret_uuid == second.rbd.secret_uuid
    other = QemuHypervisor("compute-2", tmp_path, ceph_user="skymesh")._local_auth(volume())
    assert other.rbd.secret_uuid != first.rbd.secret_uuid
