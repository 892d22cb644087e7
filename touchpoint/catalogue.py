"""The files derived from the trigger kind catalogue (udfs/trigger_kinds.py): docs/triggers.md's table of kinds and
the kind enums of the JSON Schemas. They cannot import the catalogue, so they are written from it:
``make generated`` (``python -m touchpoint.catalogue``) rewrites them, and tests/udfs/test_trigger_kinds.py fails
while one is not current.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from touchpoint import ROOT
from udfs import trigger_kinds
from udfs.trigger_kinds import KINDS, QUOTA_PATTERN, TriggerKind

DOCS = ROOT / "docs" / "triggers.md"
#: the schemas that name a trigger kind, and where
SCHEMA_FIELDS = {
    "triggers": ("kind",),
    "campaigns": ("trigger", "kind"),
    "leads": ("trigger_kind",),
    "decisions": ("trigger_kind",),
}
TABLE_START = "<!-- kinds: generated from udfs/kinds/ by `make generated`; edit a kind's module, not this table -->"
TABLE_END = "<!-- kinds: end -->"


def _row(k: TriggerKind) -> str:
    name = "quota_<n>mb" if k.per_threshold else k.name
    context = ", ".join(f"`{c}`" for c in k.context) + (f" {k.context_note}" if k.context_note else "")
    return f"| `{name}` | {k.fires_when} | {context} |"


def table() -> str:
    """docs/triggers.md's table of kinds: one row per kind, its definition and context fields."""
    rows = [_row(k) for k in KINDS]
    return "\n".join([TABLE_START, "| kind | fires when | context |", "|---|---|---|", *rows, TABLE_END])


def docs_text(current: str) -> str:
    """docs/triggers.md with its table of kinds rendered from the catalogue."""
    head, rest = current.split(TABLE_START, 1)
    return head + table() + rest.split(TABLE_END, 1)[1]


def kind_property() -> dict[str, Any]:
    """A JSON Schema property holding a trigger kind: a fixed kind, or a quota kind of any threshold."""
    return {
        "description": "a trigger kind of docs/triggers.md: one of the fixed kinds, or quota_<n>mb (one per"
        " triggers.quota_thresholds_mb)",
        "anyOf": [{"enum": trigger_kinds.fixed_names()}, {"type": "string", "pattern": QUOTA_PATTERN}],
    }


def schema_text(name: str, current: str) -> str:
    """Schema ``name`` with its kind property rendered from the catalogue (the rest as it is)."""
    schema = json.loads(current)
    *parents, leaf = SCHEMA_FIELDS[name]
    node = schema
    for p in parents:
        node = node["properties"][p]
    description = node["properties"][leaf].get("description")
    node["properties"][leaf] = kind_property() | ({"description": description} if description else {})
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def derived() -> Iterator[tuple[Path, str]]:
    """(file, the text it should have) for every file derived from the catalogue."""
    yield DOCS, docs_text(DOCS.read_text())
    for name in SCHEMA_FIELDS:
        path = ROOT / "schemas" / f"{name}.schema.json"
        yield path, schema_text(name, path.read_text())


def stale() -> list[Path]:
    """The derived files that are not current."""
    return [path for path, text in derived() if path.read_text() != text]


def main() -> int:
    for path, text in derived():
        if path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
