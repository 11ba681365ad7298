"""The demo server `skymesh up` boots: a local disk from the image, or with `--storage rbd`
a root volume cloned from it (boot from volume, deleted with the server)."""

from __future__ import annotations

from corebus.up_ready import DemoServer
from schemas.messages.conductor_servers import CreateServer


def test_the_demo_boots_from_the_image_on_a_local_disk() -> None:
    body = DemoServer().request("f-1", "3f0b2a5e-8d52-4d0e-9a8e-3f1c2b7d9e41")
    assert body["image_id"] == "3f0b2a5e-8d52-4d0e-9a8e-3f1c2b7d9e41"
    assert "block_device_mapping" not in body


def test_with_rbd_storage_the_demo_boots_from_a_volume_cloned_from_the_image() -> None:
    image = "3f0b2a5e-8d52-4d0e-9a8e-3f1c2b7d9e41"
    body = DemoServer(from_volume=True).request("a6f6f6b2-0d1c-4a57-a1c2-6a4e5b6c7d8e", image)
    assert "image_id" not in body
    request = CreateServer.model_validate(body)  # what the AMQP API will accept
    (root,) = request.block_device_mapping
    assert (root.boot_index, str(root.uuid), root.source_type.value) == (0, image, "image")
    assert root.destination_type.value == "volume" and root.delete_on_termination
