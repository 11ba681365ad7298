"""The fake DVR driver keeps the real one's namespaces: a qrouter with floating IPs
brings its fip namespace, which goes with its last user."""

from __future__ import annotations

from pathlib import Path

from node_agent.drivers.dvr.base import NamespaceKind, namespace_name
from node_agent.drivers.dvr.fake import FakeDvr
from tests.unit.node_agent.dvr.test_layout import ROUTER, plan


async def test_qrouter_fip_and_snat_namespaces(tmp_path: Path) -> None:
    driver = FakeDvr(tmp_path)
    await driver.start()
    gateway = plan().gateway
    assert gateway is not None
    await driver.ensure_qrouter(plan())
    await driver.ensure_snat(plan().model_copy(update={"floating_ips": ()}))
    assert await FakeDvr(tmp_path).list_namespaces() == sorted(
        [
            namespace_name(NamespaceKind.QROUTER, ROUTER),
            namespace_name(NamespaceKind.SNAT, ROUTER),
            namespace_name(NamespaceKind.FIP, gateway.network_id),
        ]
    )
    await driver.ensure_qrouter(plan().model_copy(update={"floating_ips": ()}))
    assert namespace_name(NamespaceKind.FIP, gateway.network_id) not in (
        await driver.list_namespaces()
    )
    assert await driver.delete_router(ROUTER) is True
    assert await driver.delete_router(ROUTER) is False
    assert await driver.list_namespaces() == []
    await driver.close()
