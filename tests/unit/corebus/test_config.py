from pathlib import Path

import pytest
from pydantic import ValidationError

from corebus.config import load_settings


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    monkeypatch.delenv("SKYMESH_CONFIG", raising=False)
    settings = load_settings()
    assert settings.home == tmp_path
    assert settings.database.dsn.startswith("postgresql://")
    assert settings.metrics.port == 0


def test_file_then_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = tmp_path / "skymesh.toml"
    conf.write_text(
        '[database]\ndsn = "postgresql://db.example/sky"\npool_max = 4\n[amqp]\nprefetch = 7\n'
    )
    monkeypatch.setenv("SKYMESH_AMQP__PREFETCH", "9")
    settings = load_settings(conf)
    assert settings.database.dsn == "postgresql://db.example/sky"
    assert settings.database.pool_max == 4
    assert settings.amqp.prefetch == 9  # the environment overrides the file


def test_home_file_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SKYMESH_HOME", str(tmp_path))
    monkeypatch.delenv("SKYMESH_CONFIG", raising=False)
    (tmp_path / "skymesh.toml").write_text("[metrics]\nport = 9109\n")
    assert load_settings().metrics.port == 9109


@pytest.mark.parametrize(
    "text", ["[amqp]\nprefetch = 0\n", "[database]\nnope = 1\n", "[nosuchsection]\n"]
)
def test_bad_settings_are_refused(tmp_path: Path, text: str) -> None:
    conf = tmp_path / "bad.toml"
    conf.write_text(text)
    with pytest.raises(ValidationError):
        load_settings(conf)
