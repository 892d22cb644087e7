"""The one typed settings object.

Values come from, in order of precedence: environment variables (``TOUCHPOINT_`` prefix, ``__`` between
nesting levels, e.g. ``TOUCHPOINT_KAFKA__BOOTSTRAP=host:9092``), a YAML file (``--config FILE`` or
``TOUCHPOINT_CONFIG``), then the defaults. Every job, the simulator and the tests read the same object, so a
parameter such as the dwell time means the same thing to the ground truth and to Flink.

The sections live by concern (infra, flink, rules, simulator); each field's description is the docstring under
it, from which docs/settings.md is generated (touchpoint.config.reference).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from touchpoint.config.base import ConfigError, Section, TimeZone, known_zone, read_secret
from touchpoint.config.console import Console
from touchpoint.config.flink import Cluster, Flink
from touchpoint.config.infra import ClickHouse, Grafana, Kafka, Loader, Paths, Privacy, Topics
from touchpoint.config.rules import (
    Decisions,
    Effect,
    EventTime,
    Ingest,
    Journeys,
    Network,
    Ordering,
    RegionMetrics,
    Tags,
    Triggers,
)
from touchpoint.config.simulator import KEYINGS, Keying, Simulator

__all__ = [
    "KEYINGS",
    "ClickHouse",
    "Cluster",
    "ConfigError",
    "Console",
    "Decisions",
    "Effect",
    "EventTime",
    "Flink",
    "Grafana",
    "Ingest",
    "Journeys",
    "Kafka",
    "Keying",
    "Loader",
    "Network",
    "Ordering",
    "Paths",
    "Privacy",
    "RegionMetrics",
    "Section",
    "Settings",
    "Simulator",
    "Tags",
    "TimeZone",
    "Topics",
    "Triggers",
    "known_zone",
    "load_settings",
    "read_secret",
    "secrets_of",
    "write_settings",
]


class Settings(BaseSettings):
    """Every setting, one section per concern; a section is a mapping of the same name in the YAML file."""

    model_config = SettingsConfigDict(
        env_prefix="TOUCHPOINT_", env_nested_delimiter="__", extra="forbid", use_attribute_docstrings=True
    )

    paths: Paths = Paths()
    kafka: Kafka = Kafka()
    topics: Topics = Topics()
    flink: Flink = Flink()
    cluster: Cluster = Cluster()
    ingest: Ingest = Ingest()
    event_time: EventTime = EventTime()
    network: Network = Network()
    ordering: Ordering = Ordering()
    triggers: Triggers = Triggers()
    decisions: Decisions = Decisions()
    tags: Tags = Tags()
    simulator: Simulator = Simulator()
    effect: Effect = Effect()
    journeys: Journeys = Journeys()
    region_metrics: RegionMetrics = RegionMetrics()
    clickhouse: ClickHouse = ClickHouse()
    loader: Loader = Loader()
    grafana: Grafana = Grafana()
    privacy: Privacy = Privacy()
    console: Console = Console()

    @field_validator("simulator")
    @classmethod
    def _start_is_aware(cls, v: Simulator) -> Simulator:
        if v.start.tzinfo is None:
            raise ValueError("simulator.start needs a UTC offset, e.g. 2026-11-02T00:00:00+08:00")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file (passed as init kwargs), so CI can override one value.
        return env_settings, init_settings


def write_settings(settings: Settings, path: str | os.PathLike[str]) -> Path:
    """``settings`` as a YAML file that :func:`load_settings` reads back to the same values, secrets included:
    readable by its owner only (it is how `touchpoint submit` hands a job its settings, off the command line)."""
    p = Path(path)
    p.touch(mode=0o600)
    p.chmod(0o600)
    p.write_text(yaml.safe_dump(_revealed(settings)))
    return p


def _revealed(model: BaseModel) -> dict[str, Any]:
    """``model_dump(mode="json")`` with each SecretStr's value instead of its mask."""
    data = model.model_dump(mode="json")
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
        elif isinstance(value, BaseModel):
            data[name] = _revealed(value)
        elif isinstance(value, dict) and any(isinstance(v, BaseModel) for v in value.values()):
            data[name] = {k: _revealed(v) if isinstance(v, BaseModel) else data[name][k] for k, v in value.items()}
    return data


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold (set directly or in a file): what no log line or error may show."""
    s = settings
    found = [s.kafka.password(), s.clickhouse.login_password(), s.grafana.api_token()]
    found += [read_secret(s.privacy.pseudonym_key, s.privacy.pseudonym_key_file, "privacy.pseudonym_key")]
    return [x for x in found if x]


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or ``$TOUCHPOINT_CONFIG``) plus environment variables."""
    path = path or os.environ.get("TOUCHPOINT_CONFIG")
    data: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {p} is not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {p} must hold a mapping at the top level")
    _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {field}: {msg}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
