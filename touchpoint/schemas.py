"""JSON Schemas of the topics and reference files (``schemas/``), and validation against them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

from touchpoint.resources import resource_dir

SCHEMA_DIR = resource_dir("schemas")


def schema_path(name: str) -> Path:
    """``signaling`` -> schemas/signaling.schema.json; ``reference/cells`` -> schemas/reference/cells.schema.json."""
    return SCHEMA_DIR / f"{name}.schema.json"


@cache
def schema(name: str) -> dict:
    return json.loads(schema_path(name).read_text())


@cache
def validator(name: str) -> Draft202012Validator:
    s = schema(name)
    Draft202012Validator.check_schema(s)
    return Draft202012Validator(s)


def errors(name: str, record: object) -> list[str]:
    """Human-readable problems of ``record`` against schema ``name`` (empty when valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}"
        for e in sorted(validator(name).iter_errors(record), key=lambda e: list(map(str, e.path)))
    ]


def enum(name: str, field: str) -> list[str]:
    """The allowed non-null values of an enum field, e.g. the signaling event types."""
    return [v for v in schema(name)["properties"][field]["enum"] if v is not None]


def sql_list(values: list[str]) -> str:
    """Render values as a SQL ``IN`` list body: 'a', 'b'."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)
