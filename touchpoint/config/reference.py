"""The settings reference, docs/settings.md, generated from the typed settings: every field's name, type,
default and description (the docstring under the field). `touchpoint settings reference` prints it; a test holds
the file equal to it, so the reference cannot drift from the code and the other docs link to it instead of
copying defaults."""

from __future__ import annotations

import json
import re
import types
import typing
from datetime import datetime, time
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from touchpoint import HOME
from touchpoint.config import Settings
from touchpoint.config.base import known_zone

#: Where the reference is kept, relative to the repository.
PATH = Path("docs") / "settings.md"

HEADER = """\
# Settings reference

<!-- Generated from touchpoint/config/ by `touchpoint settings reference > docs/settings.md`; do not edit. -->

Every setting of Touchpoint, section by section. Set one in a YAML file (`--config FILE`, or the file named by
`TOUCHPOINT_CONFIG`) as `section: {name: value}`, or in an environment variable `TOUCHPOINT_<SECTION>__<NAME>`
(e.g. `TOUCHPOINT_KAFKA__BOOTSTRAP=broker:9092`), which wins over the file. An invalid value is refused with the
setting's name. `touchpoint settings show` prints the values in effect, secrets masked. `<root>` is the repository
in a source checkout; an installed Touchpoint keeps `work/` in the directory it runs in and ships `campaigns/` and
`journeys/` inside its package.
"""


def missing_descriptions() -> list[str]:
    """Settings (``section.name``) and sections without a description: each one must have one."""
    missing = []
    for section, model in _sections():
        if not (model.__doc__ or "").strip():
            missing.append(section)
        missing += [f"{section}.{name}" for name, f in model.model_fields.items() if not (f.description or "").strip()]
    return missing


def render() -> str:
    """docs/settings.md: a table per section."""
    out = [HEADER, "Sections: " + ", ".join(f"[`{s}`](#{s})" for s, _ in _sections()) + ".\n"]
    for section, model in _sections():
        out.append(f"## `{section}`\n\n{_text(model.__doc__ or '')}\n")
        out.append("| setting | type | default | description |\n|---|---|---|---|")
        for name, f in model.model_fields.items():
            cells = (f"`{section}.{name}`", _type(f), _default(f), _text(f.description or ""))
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def _sections() -> list[tuple[str, type[BaseModel]]]:
    return [(name, f.annotation) for name, f in Settings.model_fields.items()]


def _text(doc: str) -> str:
    """A docstring as one markdown paragraph: lines joined, reST's ``code`` as markdown's `code`."""
    return re.sub(r"``([^`]+)``", r"`\1`", " ".join(line.strip() for line in doc.strip().splitlines()))


#: annotated_types bound -> (how the reference writes it, the attribute holding the number)
_BOUNDS = {Ge: ("≥", "ge"), Gt: (">", "gt"), Le: ("≤", "le"), Lt: ("<", "lt")}


def _type(f: FieldInfo) -> str:
    name = _type_name(f.annotation)
    if any(getattr(m, "func", None) is known_zone for m in f.metadata):
        name = "IANA time zone"
    limits = [
        f"{sign} {getattr(m, attr)}" for m in f.metadata for t, (sign, attr) in _BOUNDS.items() if isinstance(m, t)
    ]
    patterns = [m.pattern for m in f.metadata if getattr(m, "pattern", None)]
    return ", ".join([name, *limits, *(f"matching `{p}`" for p in patterns)])


def _type_name(t: Any) -> str:
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return " or ".join(_type_name(a) for a in rest) + (", optional" if len(rest) < len(args) else "")
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}"
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        Path: "path",
        SecretStr: "secret",
        datetime: "date-time with UTC offset",
        time: "time of day",
    }
    return names.get(t, getattr(t, "__name__", str(t)))


def _default(f: FieldInfo) -> str:
    value = f.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, Path):
        value = f"<root>/{value.relative_to(HOME)}" if value.is_relative_to(HOME) else str(value)
    elif isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, time):
        value = value.strftime("%H:%M")
    elif isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    elif isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"
