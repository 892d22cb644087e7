"""The console's change log: every change (publish, pause, resume, a user added or removed) as one record on the
``console_audit`` topic, which the loader puts into the ClickHouse table of the same name
(schemas/console-audit.schema.json). A change and its record are produced together by one producer, and
the page says when the broker did not confirm both."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

MISSING = object()


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """A definition as ``field path -> value`` in the form the validators name fields: ``offer.id``,
    ``audience.static[0].op``; a list of scalars is one value."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, list) and any(isinstance(v, dict | list) for v in obj):
        out = {}
        for i, v in enumerate(obj):
            out |= flatten(v, f"{prefix}[{i}]")
        return out
    return {prefix: obj}


def changes(before: dict | None, after: dict | None) -> list[str]:
    """What changed, one ``field: old -> new`` per field, in field order (absent fields are ``-``)."""
    b, a = flatten(before or {}), flatten(after or {})

    def show(v: Any) -> str:
        return "-" if v is MISSING else json.dumps(v, ensure_ascii=False)

    return [
        f"{f}: {show(b.get(f, MISSING))} -> {show(a.get(f, MISSING))}"
        for f in sorted(b.keys() | a.keys())
        if b.get(f, MISSING) != a.get(f, MISSING)
    ]


def record(
    user: str, role: str, action: str, kind: str, target: str, before: dict | None, after: dict | None, note: str = ""
) -> dict[str, Any]:
    """One audit record: who, when (ms), what (``action`` on ``kind`` ``target``), the fields changed, and the
    whole definition before and after (JSON text; empty when there was none)."""
    return {
        "audit_id": uuid.uuid4().hex,
        "ts": int(time.time() * 1000),
        "user": user,
        "role": role,
        "action": action,
        "kind": kind,
        "target": target,
        "changes": changes(before, after),
        "before": "" if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
        "after": "" if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
        "note": note,
    }
