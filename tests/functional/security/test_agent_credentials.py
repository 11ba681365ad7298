"""Node agents hold no database credentials: an agent started the way `skymesh up`
starts it, from a settings file and an environment that both carry the database DSN
and password, gets neither: not in its environment (/proc/<pid>/environ), not on its
command line, not in the settings file it reads, so not in the settings it loads."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from corebus.config import load_settings
from corebus.launcher import Launcher, ProcessSpec

pytestmark = pytest.mark.functional


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def argv_of(pid: int) -> list[str]:
    return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]


async def test_an_agent_process_carries_no_database_credentials(
    amqp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"pg-secret-{uuid.uuid4().hex[:10]}"
    dsn = f"postgresql://skymesh:{secret}@127.0.0.1:5432/skymesh_x"
    config = tmp_path / "skymesh.toml"
    config.write_text(
        f'[database]\ndsn = "{dsn}"\npool_max = 4\n\n[amqp]\nurl = "{amqp_url}"\n'
        '\n[logging]\nlevel = "INFO"\n'
    )
    monkeypatch.delenv("SKYMESH_CONFIG", raising=False)
    env = {"SKYMESH_DATABASE__DSN": dsn, "PGPASSWORD": secret, "SKYMESH_HOME": str(tmp_path)}
    launcher = Launcher(tmp_path, str(config), env)
    host = f"cred-{uuid.uuid4().hex[:6]}"
    agent = ProcessSpec(host, ("agent", "--host", host, "--roles", "compute"))
    conductor = ProcessSpec("conductor", ("conductor",))
    # the conductor would get the database (it is its only user) ...
    assert launcher._env(conductor)["SKYMESH_DATABASE__DSN"] == dsn
    proc = await launcher.start(agent)
    try:
        await asyncio.sleep(1.0)  # let it start and read its settings
        assert proc.returncode is None, "the agent died at start"
        environ = environ_of(proc.pid)
        argv = argv_of(proc.pid)
        # ... the agent does not: not in its environment ...
        assert not [k for k in environ if k.startswith("SKYMESH_DATABASE") or k.startswith("PG")]
        assert all(secret not in v and "postgresql://" not in v for v in environ.values())
        # ... nor on its command line, nor in the settings file it reads
        assert all(secret not in a for a in argv)
        agent_config = Path(argv[argv.index("--config") + 1])
        assert agent_config != config
        text = await asyncio.to_thread(agent_config.read_text)
        assert secret not in text and "[database]" not in text
        assert amqp_url in text  # the rest of the settings is all there
        # the settings it loaded: the same file and environment, loaded the same way
        monkeypatch.setattr("os.environ", environ)
        loaded = load_settings(agent_config)
        assert secret not in loaded.model_dump_json()
        assert loaded.database.dsn != dsn
        assert loaded.amqp.url == amqp_url
    finally:
        await launcher.stop_all(grace=10)
