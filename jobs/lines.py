"""The JSON lines the jobs' Python operators take in (decisions, effect): parsed once, or the first defect."""

from __future__ import annotations

from typing import Any

import orjson


def read_line(
    line: str, required: tuple[str, ...], ts: int | None, ts_field: str
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    """(record, None), or (None, (reason, detail)) for the first defect: ``bad_json``, ``missing_field`` (the first
    of ``required`` absent or null), ``invalid_value`` (``ts_field``: the event time SQL read from the line, ``ts``,
    is not an integer)."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return None, ("bad_json", str(e))
    missing = [f for f in required if not isinstance(record, dict) or record.get(f) is None]
    if missing:
        return None, ("missing_field", missing[0])
    if ts is None:
        return None, ("invalid_value", ts_field)
    return record, None
