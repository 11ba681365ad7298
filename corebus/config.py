"""Typed settings: one TOML file plus environment overrides, parsed once.

Precedence (highest first): environment variables `SKYMESH_<SECTION>__<KEY>`
(e.g. `SKYMESH_DATABASE__DSN`), the TOML file, the defaults below. The parsed
`Settings` object is passed to constructors; nothing reads configuration globally.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseSettings(Section):
    dsn: str = "postgresql://postgres@127.0.0.1:5432/skymesh"
    pool_min: int = Field(2, ge=1)
    pool_max: int = Field(10, ge=1)
    command_timeout_s: float = Field(30.0, gt=0)


class AmqpSettings(Section):
    url: str = "amqp://guest:guest@127.0.0.1:5672/skymesh"
    prefetch: int = Field(128, ge=1)
    call_timeout_s: float = Field(30.0, gt=0)
    publish_timeout_s: float = Field(30.0, gt=0)
    delivery_limit: int = Field(5, ge=1)
    event_linger_ms: float = Field(0.0, ge=0)  # 0: coalesce within one loop tick
    event_batch_max: int = Field(256, ge=1)
    reconnect_max_s: float = Field(2.0, gt=0)
    # Signed facts (corebus/signing.py): an agent's own key, hex; empty: unsigned facts.
    fact_key: str = ""
    # The conductor's master secret the agents' keys derive from; when set, facts that
    # are unsigned or mis-signed are dead-lettered.
    fact_master_key: str = ""


class MetricsSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)  # 0: not served


class LoggingSettings(Section):
    level: str = "INFO"
    json_format: bool = Field(True, alias="json")


class ConductorSettings(Section):
    heartbeat_interval_s: float = Field(10.0, gt=0)
    down_after_s: float = Field(60.0, gt=0)
    status_log_interval_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(3, ge=1)  # the chosen host and up to 2 more after failures
    schedule_timeout_s: float = Field(30.0, gt=0)  # deadline of task_state scheduling
    spawn_timeout_s: float = Field(300.0, gt=0)  # deadline of task_state spawning
    # how long a compute agent waits for its ports to come up (Nova's vif_plugging_timeout;
    # 0: no wait); keep it below spawn_timeout_s
    vif_plug_timeout_s: float = Field(300.0, ge=0)
    action_timeout_s: float = Field(120.0, gt=0)  # deadline of the other task states
    sweep_interval_s: float = Field(1.0, gt=0)
    audit_interval_s: float = Field(600.0, gt=0)  # the periodic audit (conductor/audit.py)
    audit_repair: bool = False  # let the periodic audit repair by policy, not only report
    image_dir: str = ""  # where image files live (default: $SKYMESH_HOME/images)
    token_ttl_s: float = Field(3600.0, gt=0)  # lifetime of an issued token
    notification_retention_s: float = Field(86400.0, gt=0)  # replayable event history
    notification_retention_count: int = Field(100_000, ge=1)  # and at most this many
    notification_purge_interval_s: float = Field(60.0, gt=0)


class GatewaySettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8780, ge=0, le=65535)  # 0: any free port
    public_url: str = ""  # the base URL clients use (default: http://host:port)
    region: str = "RegionOne"
    max_body_bytes: int = Field(1 << 20, ge=1024)  # JSON bodies; larger gets 413
    token_cache_s: float = Field(5.0, ge=0)  # how long a validated token is trusted
    event_queue_limit: int = Field(1000, ge=1)  # per subscriber, then it is closed
    event_keepalive_s: float = Field(15.0, gt=0)  # SSE comment / WebSocket ping when idle
    image_dir: str = ""  # the image store: the conductor's image_dir ($SKYMESH_HOME/images)
    image_size_cap: int = Field(1 << 40, ge=1)  # bytes one image upload may have (Glance's cap)
    # HTTPS (corebus/tls.py): PEM certificate chain and key; a CA to require client certs
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""

    @property
    def base_url(self) -> str:
        """The URL clients use: `public_url`, or http(s)://host:port."""
        scheme = "https" if self.tls_cert else "http"
        return self.public_url.rstrip("/") or f"{scheme}://{self.host}:{self.port}"


def default_home() -> Path:
    return Path(os.environ.get("SKYMESH_HOME", Path.cwd() / ".skymesh"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SKYMESH_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    home: Path = Field(default_factory=default_home)
    database: DatabaseSettings = DatabaseSettings()
    amqp: AmqpSettings = AmqpSettings()
    metrics: MetricsSettings = MetricsSettings()
    conductor: ConductorSettings = ConductorSettings()
    gateway: GatewaySettings = GatewaySettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, which arrives as init arguments.
        return env_settings, init_settings


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The TOML file to read: the explicit one, $SKYMESH_CONFIG, or $SKYMESH_HOME/skymesh.toml."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("SKYMESH_CONFIG"):
        return Path(env)
    candidate = default_home() / "skymesh.toml"
    return candidate if candidate.exists() else None


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Parse the TOML file (if any) and the environment into `Settings`."""
    data: dict[str, Any] = {}
    file = config_path(path)
    if file is not None:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    data.update(overrides)
    return Settings(**data)
