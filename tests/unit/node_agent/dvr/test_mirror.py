"""The conductor mirrors network commands to the DVR compute hosts only with the dvr
backend configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from conductor.dvr_mirror import mirror
from schemas.messages.agent_network import DeleteRouter, SyncNetwork


class Client:
    def __init__(self) -> None:
        self.topics: list[str] = []

    async def cast(self, topic: str, message: Any, **_: Any) -> None:
        self.topics.append(topic)


async def test_mirrors_only_with_the_dvr_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    monkeypatch.delenv("SKYMESH_NETWORK_BACKEND", raising=False)
    client, command = Client(), DeleteRouter(router_id=UUID(int=1))
    await mirror(client, command, None)  # type: ignore[arg-type]
    assert client.topics == []
    (tmp_path / "dvr-backend.json").write_text('{"compute_hosts": ["compute-1", "compute-2"]}')
    await mirror(client, command, None)  # type: ignore[arg-type]
    assert client.topics == [
        "node_agent.compute-1.delete_router",
        "node_agent.compute-2.delete_router",
    ]
    monkeypatch.setenv("SKYMESH_NETWORK_BACKEND", "dvr")
    monkeypatch.setenv("SKYMESH_DVR_COMPUTE_HOSTS", "c9")
    await mirror(client, command, None)  # type: ignore[arg-type]
    assert client.topics[-1] == "node_agent.c9.delete_router"
    await mirror(client, SyncNetwork(), None)  # type: ignore[arg-type]
    assert len(client.topics) == 3  # not a command compute hosts take
