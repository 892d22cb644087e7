"""Validation rules of the ``ingest`` job: one raw line in, typed fields plus a DLQ reason out.

This is the readable specification. The job runs the same rules on the JVM (jvm/src/touchpoint/ingest), where a
line costs no trip to Python; tests/jobs/test_ingest.py holds the two equal on the same lines.

The first defect found wins, in this order: ``bad_json`` (not a JSON object), ``missing_field`` (a
required field absent or null), ``unknown_event_type`` (signaling) or ``unknown_action`` (orders),
``invalid_value`` (wrong type or format), ``ts_out_of_range``. ``detail`` names the field (or the offending
value for ``unknown_*`` and ``ts_out_of_range``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

#: The dead-letter reasons of these rules, in the order they are tested.
REASONS = ("bad_json", "missing_field", "unknown_event_type", "unknown_action", "invalid_value", "ts_out_of_range")

_MSISDN = re.compile(r"[0-9]{5,15}")
_IMSI = re.compile(r"[0-9]{14,15}")
#: formats of the other string fields, as the topics' JSON Schemas state them: ids are not empty
_FORMATS = {
    "event_id": re.compile(r".+", re.S),
    "order_id": re.compile(r".+", re.S),
    "product_id": re.compile(r".+", re.S),
    "imei": re.compile(r"[0-9]{14,16}"),
    "vlr_plmn": re.compile(r"[0-9]{5,6}"),
}

SIGNALING_FIELDS = (
    "event_id",
    "event_type",
    "ts",
    "msisdn",
    "imsi",
    "imei",
    "lac",
    "cell_id",
    "rat",
    "vlr_plmn",
    "called_number",
    "calling_number",
    "duration_s",
    "forward_to",
)
XDR_FIELDS = (
    "event_id",
    "ts",
    "msisdn",
    "imsi",
    "imei",
    "lac",
    "cell_id",
    "rat",
    "apn",
    "app",
    "bytes_up",
    "bytes_down",
    "duration_s",
)
ORDERS_FIELDS = ("order_id", "ts", "msisdn", "product_id", "product_kind", "action", "channel", "lead_id")
#: raw topic -> the fields its check returns
FIELDS = {"signaling": SIGNALING_FIELDS, "xdr": XDR_FIELDS, "orders": ORDERS_FIELDS}


def event_time(checked: tuple, fields: tuple[str, ...]) -> int | None:
    """The event time of a raw line, from what the check made of it (``checked``, a ``check_*`` result over
    ``fields``): its ts when valid, None when not. An invalid line is no event, whatever its ts says, so it moves no
    watermark. Jobs take event time and the watermark of each raw partition from this (sql/tables/*_raw.sql, the
    JVM's ``*_time`` functions)."""
    return checked[fields.index("ts")] if checked[len(fields)] is None else None


@dataclass(frozen=True)
class _Shape:
    """What one source's records look like to the rules."""

    fields: tuple[str, ...]
    required: tuple[str, ...]
    #: the record's id field (kept on a dead letter)
    id_field: str
    #: the field whose value names the record's type, and the reason when the value is unknown
    type_field: str | None = None
    type_reason: str = ""
    #: a field with a closed vocabulary (besides the type), and whether it is normalised ("g3 " -> "G3")
    vocab_field: str | None = None
    normalise: bool = False
    has_imsi: bool = True


_SIGNALING = _Shape(
    SIGNALING_FIELDS,
    ("event_id", "event_type", "ts", "msisdn", "imsi"),
    "event_id",
    "event_type",
    "unknown_event_type",
    "rat",
    normalise=True,
)
_XDR = _Shape(
    XDR_FIELDS,
    ("event_id", "ts", "msisdn", "imsi", "rat", "bytes_up", "bytes_down"),
    "event_id",
    vocab_field="rat",
    normalise=True,
)
_ORDERS = _Shape(
    ORDERS_FIELDS,
    ("order_id", "ts", "msisdn", "product_id", "product_kind", "action"),
    "order_id",
    "action",
    "unknown_action",
    "product_kind",
    has_imsi=False,
)
_INTS = frozenset({"lac", "cell_id", "duration_s", "bytes_up", "bytes_down"})
_NON_NEGATIVE = frozenset({"duration_s", "bytes_up", "bytes_down"})
#: integers the normalised topics carry as INT (32 bits); a larger value is invalid, not wrapped around
_INT32 = frozenset({"lac", "duration_s"})


_BIGINT = (-(2**63), 2**63 - 1)


def _is_int(v: object) -> bool:
    """A JSON integer that fits a BIGINT; a larger one is an invalid value (a number, not a crash)."""
    return isinstance(v, int) and not isinstance(v, bool) and _BIGINT[0] <= v <= _BIGINT[1]


@dataclass(frozen=True)
class IngestRules:
    """Bounds and vocabularies come from settings and the schemas, so SQL, docs and tests agree."""

    ts_min_ms: int
    ts_max_ms: int
    event_types: frozenset[str]
    rats: frozenset[str]
    actions: frozenset[str] = frozenset()
    product_kinds: frozenset[str] = frozenset()

    def check_signaling(self, line: str | bytes) -> tuple:
        """Typed ``SIGNALING_FIELDS``, then ``reason``, ``detail`` and ``raw`` (all None when valid)."""
        return self._check(line, _SIGNALING, self.event_types, self.rats)

    def check_xdr(self, line: str | bytes) -> tuple:
        """Typed ``XDR_FIELDS``, then ``reason``, ``detail`` and ``raw`` (all None when valid)."""
        return self._check(line, _XDR, frozenset(), self.rats)

    def check_orders(self, line: str | bytes) -> tuple:
        """Typed ``ORDERS_FIELDS``, then ``reason``, ``detail`` and ``raw`` (all None when valid)."""
        return self._check(line, _ORDERS, self.actions, self.product_kinds)

    def _check(self, line: str | bytes, shape: _Shape, types: frozenset[str], vocab: frozenset[str]) -> tuple:
        fields = shape.fields
        if isinstance(line, bytes):  # the line as it came: JSON is UTF-8, so other bytes are not JSON
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.decode("utf-8", "replace")  # what the job keeps as the raw line
                return (None,) * len(fields) + ("bad_json", "not a JSON object", text)
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            rec = None
        if not isinstance(rec, dict):
            return (None,) * len(fields) + ("bad_json", "not a JSON object", line)
        values = [rec.get(f) for f in fields]
        problem = self._problem(rec, shape, types, vocab)
        if problem is None:
            at = fields.index(shape.vocab_field) if shape.normalise else -1
            if at >= 0 and values[at] is not None:  # normalise "g3 " -> "G3"
                values[at] = values[at].strip().upper()
            return (*values, None, None, None)
        # Keep what is usable for the DLQ record (its id, ts) only when it has the right type.
        safe = tuple(
            v if (f == shape.id_field and isinstance(v, str)) or (f == "ts" and _is_int(v)) else None
            for f, v in zip(fields, values)
        )
        # The rejected line travels with its reason, so the DLQ branch needs nothing but this result
        # (then both branches share one evaluation of this function in Flink's plan).
        return safe + problem + (line,)

    def _problem(
        self, rec: dict, shape: _Shape, types: frozenset[str], vocab: frozenset[str]
    ) -> tuple[str, str] | None:
        for f in shape.required:
            if rec.get(f) is None:
                return "missing_field", f
        if shape.type_field:
            etype = rec[shape.type_field]
            if not isinstance(etype, str) or etype not in types:
                return shape.type_reason, etype if isinstance(etype, str) else "not a string"
            if etype == "mo_call" and rec.get("called_number") is None:
                return "missing_field", "called_number"
        ts = rec["ts"]
        if not _is_int(ts):
            return "invalid_value", "ts"
        for f, pattern in (("msisdn", _MSISDN), ("imsi", _IMSI))[: 2 if shape.has_imsi else 1]:
            v = rec[f]
            if not isinstance(v, str) or not pattern.fullmatch(v):
                return "invalid_value", f
        if shape.vocab_field:
            v = rec.get(shape.vocab_field)
            norm = v.strip().upper() if shape.normalise and isinstance(v, str) else v
            if v is not None and (not isinstance(v, str) or norm not in vocab):
                return "invalid_value", shape.vocab_field
        for f in shape.fields:  # unknown extra fields are ignored: producers may add fields before we do
            v = rec.get(f)
            if v is None:
                continue
            if f in _INTS:
                if not _is_int(v) or (f in _NON_NEGATIVE and v < 0) or (f in _INT32 and not -(2**31) <= v < 2**31):
                    return "invalid_value", f
            elif f != "ts" and (not isinstance(v, str) or (f in _FORMATS and not _FORMATS[f].fullmatch(v))):
                return "invalid_value", f
        if not self.ts_min_ms <= ts < self.ts_max_ms:
            return "ts_out_of_range", str(ts)
        return None
