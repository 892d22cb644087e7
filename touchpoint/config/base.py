"""What every settings section shares: unknown keys refused, each field described by the docstring under it (the
settings reference, docs/settings.md, is generated from them), time zones and secrets checked the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr


def known_zone(name: str) -> str:
    """An IANA time zone name, else a ValueError with an example."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}, e.g. Asia/Shanghai") from None
    return name


#: An IANA time zone name, checked when the settings load.
TimeZone = Annotated[str, AfterValidator(known_zone)]


class Section(BaseModel):
    """A section of the settings: a mistyped key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ConfigError(ValueError):
    """A settings file or variable is invalid; the message names the field."""


def read_secret(value: SecretStr | None, file: Path | None, name: str) -> str | None:
    """A secret set directly (``name``, e.g. from an environment variable) or in a file (``name_file``, e.g. a
    mounted Kubernetes secret; one line, trailing newline ignored). Never logged: settings hold it as SecretStr."""
    if value is not None:
        return value.get_secret_value()
    if file is None:
        return None
    try:
        return Path(file).read_text().rstrip("\r\n")
    except OSError as e:
        raise ConfigError(f"{name}_file {file}: {e.strerror}") from None
