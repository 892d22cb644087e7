"""The JSON lines the jobs' Python operators take in (decisions, effect, journeys): parsed once, or the first
defect; the read-only view of a broadcast state the rules look rows up in; and the dead letter of a record the
rules raised on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


class StateLookup(Mapping):
    """A broadcast state (id -> stored value) as the read-only mapping the rules look values up in, each value
    through ``decode`` (reference rows: their JSON; product families: the family itself)."""

    def __init__(self, state, decode: Callable[[Any], Any]):
        self._state, self._decode = state, decode

    def __getitem__(self, key: str) -> Any:
        value = self._state.get(key)
        if value is None:
            raise KeyError(key)
        return self._decode(value)

    def __contains__(self, key: object) -> bool:
        return self._state.get(key) is not None

    def __iter__(self):  # the rules only look up ids; read-only broadcast state cannot list them in thread mode
        raise TypeError("broadcast lookups cannot be listed")

    def __len__(self) -> int:
        raise TypeError("broadcast lookups cannot be counted")


#: The reason of a record that made an operator's rules raise. It goes to the DLQ with the error, and the job
#: goes on: failing would restart the job from its checkpoint, where it would meet the same record again (a
#: restart loop that stops the pipeline for everyone).
OPERATOR_ERROR = "operator_error"


def ruled(rule: Callable[[], Any], dead: Callable[[str], Any]) -> tuple[Any, Any]:
    """``(rule(), None)``, or ``(None, dead(detail))`` if the rule raised on this record (detail: the error's type
    and message). Only rules go inside, not state access: a state backend that fails must fail the job, which
    then recovers from its checkpoint."""
    try:
        return rule(), None
    except Exception as e:  # any defect of one record, whatever the rule that met it
        return None, dead(f"{type(e).__name__}: {e}")


def all_or_dead_letter(rows: Callable[[], Iterable[Any]], dead: Callable[[str], Any]) -> list[Any]:
    """The rows ``rows()`` makes, all or none: the one dead letter instead if the rules raise (:func:`ruled`)."""
    made, dead_letter = ruled(lambda: list(rows()), dead)
    return [dead_letter] if dead_letter is not None else made
