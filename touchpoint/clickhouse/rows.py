"""Kafka record -> ClickHouse row: one conversion per column, the column specs of every loaded table, and the
dead-letter row of a record that cannot be loaded.

Conversions: ms -> ``DateTime`` seconds (the ms also kept where the table has a ``*_ms`` column), absent/null ->
the column's default ('' / 0 / []), booleans -> UInt8. A record that is not JSON, lacks a field its schema
requires, or has a value of the wrong type becomes a ``dlq`` row (source ``loader``, reason ``bad_json`` /
``missing_field`` / ``invalid_value``, detail ``<topic>: <field>``).

Privacy (docs/privacy.md): MSISDN and IMEI columns get the keyed pseudonym (touchpoint/privacy.py), and so do
the personal fields inside a trigger's context and a dead letter's raw text. Only the lookup table (``LOOKUP``)
pairs a pseudonym with the number, for each lead's subscriber.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from touchpoint.clients.kafka_io import EVENT_TIME_MARKER
from touchpoint.config import Settings
from touchpoint.privacy import Pseudonymiser
from touchpoint.schemas import schema

MAX_DATETIME = 4_294_967_295  # DateTime is UInt32 seconds
MAX_DATETIME_MS = MAX_DATETIME * 1000


class BadRecord(Exception):
    """A record the loader cannot turn into a row; it becomes a ``dlq`` row with this reason and detail."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


# --- value conversions (each raises TypeError/ValueError on a wrong type) ------------------------------------


def to_string(v: Any) -> str:
    if type(v) is str:
        return v
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise TypeError("expected a string")


def to_int(v: Any) -> int:
    if type(v) is int:
        return v
    if v is None:
        return 0
    if type(v) is float and v.is_integer():
        return int(v)
    raise TypeError("expected an integer")


def to_uint(v: Any) -> int:
    if type(v) is int and v >= 0:
        return v
    n = to_int(v)
    if n < 0:
        raise ValueError("expected an integer >= 0")
    return n


def to_datetime(v: Any) -> int:
    """ms since the epoch -> DateTime seconds (floored, clamped to DateTime's range)."""
    if type(v) is int and 0 <= v <= MAX_DATETIME_MS:
        return v // 1000
    return min(max(to_int(v) // 1000, 0), MAX_DATETIME)


def to_float(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError("expected a number")


def to_float_or_null(v: Any) -> float | None:
    return None if v is None else to_float(v)


def to_flag(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, bool) or v in (0, 1):
        return int(v)
    raise TypeError("expected a boolean")


def to_strings(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return v
    raise TypeError("expected a list of strings")


# Personal columns: the Converter binds each to its pseudonymiser (a key per installation), see _personal().
def personal_msisdn(v: Any) -> str:
    raise NotImplementedError("bound by Converter")


def personal_imei(v: Any) -> str:
    raise NotImplementedError("bound by Converter")


def personal_json_text(v: Any) -> str:
    raise NotImplementedError("bound by Converter")


def to_json_text(v: Any) -> str:
    if v is None:
        return ""
    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()


def to_key_names(v: Any) -> list[str]:
    if v is None:
        return []
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return sorted(v)


def to_key_counts(v: Any) -> list[int]:
    if v is None:
        return []
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return [to_uint(v[k]) for k in sorted(v)]


#: table -> [(column, record field, conversion)]; the table of topic key K is K. Required fields come from the
#: topic's JSON Schema (schemas/<topic>.schema.json). The dlq table is built by :func:`_dlq_row`.
TABLES: dict[str, list[tuple[str, str, Callable[[Any], Any]]]] = {
    "triggers": [
        ("trigger_id", "trigger_id", to_string),
        ("msisdn", "msisdn", personal_msisdn),
        ("kind", "kind", to_string),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
        ("detected_at", "detected_at", to_datetime),
        ("detected_at_ms", "detected_at", to_int),
        ("context", "context", personal_json_text),
    ],
    "leads": [
        ("lead_id", "lead_id", to_string),
        ("msisdn", "msisdn", personal_msisdn),
        ("campaign_id", "campaign_id", to_string),
        ("offer_id", "offer_id", to_string),
        ("channel", "channel", to_string),
        ("channels", "channels", to_strings),
        ("message", "message", to_string),
        ("trigger_id", "trigger_id", to_string),
        ("trigger_kind", "trigger_kind", to_string),
        ("trigger_ts", "trigger_ts", to_datetime),
        ("trigger_ts_ms", "trigger_ts", to_int),
        ("created_at", "created_at", to_datetime),
        ("created_at_ms", "created_at", to_int),
        ("deliver_at", "deliver_at", to_datetime),
        ("expires_at", "expires_at", to_datetime),
        ("control", "control", to_flag),
        ("reasons", "reasons", to_strings),
        ("variant_id", "variant_id", to_string),
    ],
    "decisions": [
        ("decision_id", "decision_id", to_string),
        ("trigger_id", "trigger_id", to_string),
        ("trigger_kind", "trigger_kind", to_string),
        ("msisdn", "msisdn", personal_msisdn),
        ("campaign_id", "campaign_id", to_string),
        ("trigger_ts", "trigger_ts", to_datetime),
        ("decided_at", "decided_at", to_datetime),
        ("decided_at_ms", "decided_at", to_int),
        ("result", "result", to_string),
        ("reason", "reason", to_string),
        ("detail", "detail", to_string),
        ("lead_id", "lead_id", to_string),
        ("deliver_at", "deliver_at", to_datetime),
    ],
    "behaviour": [
        ("msisdn", "msisdn", personal_msisdn),
        ("hour_start", "hour_start", to_datetime),
        ("calls_mo", "calls_mo", to_uint),
        ("calls_mt", "calls_mt", to_uint),
        ("call_seconds", "call_seconds", to_uint),
        ("sms", "sms", to_uint),
        ("bytes_up", "bytes_up", to_uint),
        ("bytes_down", "bytes_down", to_uint),
        ("g3_bytes", "g3_bytes", to_uint),
        ("hotline_dials", "hotline_dials", to_uint),
        ("distinct_cells", "distinct_cells", to_uint),
        ("g3_data_share", "g3_data_share", to_float_or_null),
        ("regions", "regions", to_strings),
        ("roaming", "roaming", to_flag),
        ("last_imei", "last_imei", personal_imei),
        ("last_tac", "last_tac", to_string),
    ],
    "region_metrics": [
        ("region_id", "region_id", to_string),
        ("region_name", "region_name", to_string),
        ("region_kind", "region_kind", to_string),
        ("lat", "lat", to_float),
        ("lon", "lon", to_float),
        ("window_start", "window_start", to_datetime),
        ("window_end", "window_end", to_datetime),
        ("subscribers", "subscribers", to_uint),
        ("g3_subscribers", "g3_subscribers", to_uint),
        ("g3_capable", "g3_capable", to_uint),
        ("opportunities", "opportunities", to_uint),
        ("g3_coverage", "g3_coverage", to_float),
        ("g3_data_share", "g3_data_share", to_float_or_null),
        ("product_names", "products", to_key_names),
        ("product_counts", "products", to_key_counts),
    ],
    "outcomes": [
        ("outcome_id", "outcome_id", to_string),
        ("lead_id", "lead_id", to_string),
        ("trigger_id", "trigger_id", to_string),
        ("msisdn", "msisdn", personal_msisdn),
        ("campaign_id", "campaign_id", to_string),
        ("status", "status", to_string),
        ("reason", "reason", to_string),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
        ("order_id", "order_id", to_string),
    ],
    "uplift": [
        ("uplift_id", "uplift_id", to_string),
        ("scope", "scope", to_string),
        ("campaign_id", "campaign_id", to_string),
        ("trigger_kind", "trigger_kind", to_string),
        ("day", "day", to_string),
        ("variant_id", "variant_id", to_string),
        ("treatment_leads", "treatment_leads", to_uint),
        ("treatment_converted", "treatment_converted", to_uint),
        ("control_leads", "control_leads", to_uint),
        ("control_converted", "control_converted", to_uint),
        ("treatment_rate", "treatment_rate", to_float_or_null),
        ("control_rate", "control_rate", to_float_or_null),
        ("uplift", "uplift", to_float_or_null),
        ("relative_uplift", "relative_uplift", to_float_or_null),
        ("ci_low", "ci_low", to_float_or_null),
        ("ci_high", "ci_high", to_float_or_null),
        ("enough_data", "enough_data", to_flag),
        ("version", "version", to_uint),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
    ],
    "guardrail": [
        ("campaign_id", "campaign_id", to_string),
        ("state", "state", to_string),
        ("by", "by", to_string),
        ("reason", "reason", to_string),
        ("uplift", "uplift", to_float_or_null),
        ("ci_low", "ci_low", to_float_or_null),
        ("ci_high", "ci_high", to_float_or_null),
        ("uplift_version", "uplift_version", to_uint),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
    ],
    "console_audit": [
        ("audit_id", "audit_id", to_string),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
        ("user", "user", to_string),
        ("role", "role", to_string),
        ("action", "action", to_string),
        ("kind", "kind", to_string),
        ("target", "target", to_string),
        ("changes", "changes", to_strings),
        ("before", "before", to_string),
        ("after", "after", to_string),
        ("note", "note", to_string),
    ],
    "journey_events": [
        ("event_id", "trigger_id", to_string),
        ("msisdn", "msisdn", personal_msisdn),
        ("kind", "kind", to_string),
        ("journey_id", "context.journey_id", to_string),
        ("step", "context.step", to_string),
        ("order_id", "context.order_id", to_string),
        ("product_id", "context.product_id", to_string),
        ("trial_start", "context.trial_start", to_datetime),
        ("trial_end", "context.trial_end", to_datetime),
        ("usage_mb", "context.usage_mb", to_float),
        ("result", "context.result", to_string),
        ("reason", "context.reason", to_string),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
    ],
    "orders": [
        ("order_id", "order_id", to_string),
        ("msisdn", "msisdn", personal_msisdn),
        ("product_id", "product_id", to_string),
        ("product_kind", "product_kind", to_string),
        ("action", "action", to_string),
        ("channel", "channel", to_string),
        ("lead_id", "lead_id", to_string),
        ("ts", "ts", to_datetime),
        ("ts_ms", "ts", to_int),
    ],
    "traffic": [
        ("window_start", "window_start", to_datetime),
        ("window_end", "window_end", to_datetime),
        ("source", "source", to_string),
        ("event_type", "event_type", to_string),
        ("events", "events", to_uint),
    ],
}
DLQ_COLUMNS = ["source", "reason", "detail", "event_id", "ts", "event_ts_ms", "raw", "dlq_id"]
#: The lookup table (migration 007), in its own database, and its columns: a lead's subscriber pseudonym ->
#: MSISDN.
LOOKUP = "subscriber_lookup"
LOOKUP_COLUMNS = ["pseudonym", "msisdn", "updated"]
PROGRESS_COLUMNS = ["ts", "topic", "partition", "committed", "end_offset", "lag", "rows", "group_id"]
LOADABLE = [*TABLES, "dlq"]
#: The id field of each table's records (for the dlq row of a bad record); tables without one use ''.
ID_FIELDS = {
    "triggers": "trigger_id",
    "leads": "lead_id",
    "decisions": "decision_id",
    "outcomes": "outcome_id",
    "orders": "order_id",
    "uplift": "uplift_id",
    "journey_events": "trigger_id",
    "console_audit": "audit_id",
    "dlq": "event_id",
}


def columns_of(table: str) -> list[str]:
    return DLQ_COLUMNS if table == "dlq" else [c for c, _, _ in TABLES[table]]


def required_fields(topic_key: str) -> list[str]:
    """The fields the topic's JSON Schema requires (topic key ``region_metrics`` -> ``region-metrics``)."""
    return schema(topic_key.replace("_", "-")).get("required", [])


def _dlq_id(value: bytes) -> str:
    return hashlib.blake2b(value, digest_size=10).hexdigest()


_FAST_CHECK = {to_string: "type({x}) is str", to_int: "type({x}) is int", to_uint: "type({x}) is int and {x} >= 0"}


def _compile(
    table: str, spec: list[tuple[str, str, Callable[[Any], Any]]], required: list[str]
) -> Callable[[dict], tuple]:
    """One generated function building a row from a record, with the common case (the value already has the
    column's type) inline and the required-field checks folded in: ~2x faster than looping over the spec."""
    env: dict[str, Any] = {"BadRecord": BadRecord, "MAXMS": MAX_DATETIME_MS}
    lines = ["def build(r):", "    g = r.get"]
    for f in required:
        if f not in {fld for _, fld, _ in spec}:
            lines.append(f"    if g({f!r}) is None: raise BadRecord('missing_field', {table + ': ' + f!r})")
    for i, (_, f, conv) in enumerate(spec):
        x = f"x{i}"
        env[f"c{i}"] = conv
        if "." in f:  # a field of a nested object: "context.step"
            outer, inner = f.split(".", 1)
            lines.append(f"    {x} = g({outer!r})")
            lines.append(f"    {x} = {x}.get({inner!r}) if type({x}) is dict else None")
        else:
            lines.append(f"    {x} = g({f!r})")
        if f in required:
            lines.append(f"    if {x} is None: raise BadRecord('missing_field', {table + ': ' + f!r})")
        if conv is to_datetime:
            lines.append(f"    {x} = {x} // 1000 if type({x}) is int and 0 <= {x} <= MAXMS else c{i}({x})")
        elif conv in _FAST_CHECK:
            lines.append(f"    if not ({_FAST_CHECK[conv].format(x=x)}): {x} = c{i}({x})")
        else:
            lines.append(f"    {x} = c{i}({x})")
    lines.append(f"    return ({', '.join(f'x{i}' for i in range(len(spec)))},)")
    exec("\n".join(lines), env)
    return env["build"]


class Converter:
    """Kafka record bytes -> (table, row); bad records -> ('dlq', row) with source ``loader``."""

    def __init__(self, settings: Settings, pseudonymiser: Pseudonymiser | None = None):
        self.ts_min_ms = settings.ingest.ts_min_ms
        self.ts_max_ms = settings.ingest.ts_max_ms
        self.required = {t: required_fields(t) for t in LOADABLE}
        self.pseudonyms = pseudonymiser or Pseudonymiser.of(settings)
        bound = self._personal()
        self.specs = {t: [(c, f, bound.get(conv, conv)) for c, f, conv in spec] for t, spec in TABLES.items()}
        self.build = {t: _compile(t, spec, self.required[t]) for t, spec in self.specs.items()}
        #: (pseudonym, msisdn, updated) of each lead converted since the caller last took them: the lookup rows
        #: that go into ClickHouse with the same batch as the leads
        self.lookups: list[tuple[str, str, int]] = []

    def _personal(self) -> dict[Callable[[Any], Any], Callable[[Any], Any]]:
        p = self.pseudonyms

        def msisdn(v: Any) -> str:
            return p.pseudonym("msisdn", to_string(v))

        def imei(v: Any) -> str:
            return p.pseudonym("imei", to_string(v))

        def json_text(v: Any) -> str:
            return to_json_text(p.redact(v))

        return {personal_msisdn: msisdn, personal_imei: imei, personal_json_text: json_text}

    def convert(self, table: str, value: bytes | None, kafka_ts_ms: int) -> tuple[str, tuple, bool] | None:
        """(target table, row, bad) for one record; ``None`` for an event-time marker (advance_event_time)."""
        try:
            if not value:
                raise BadRecord("bad_json", f"{table}: empty record")
            try:
                rec = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise BadRecord("bad_json", f"{table}: not JSON") from None
            if not isinstance(rec, dict):
                raise BadRecord("bad_json", f"{table}: not a JSON object")
            marker = rec.get("event_id") or rec.get("order_id") or ""  # an order's marker has only an order id
            if rec.get("msisdn") == EVENT_TIME_MARKER and str(marker).startswith("event-time-"):
                return None
            if table == "dlq":
                for f in self.required["dlq"]:
                    if rec.get(f) is None:
                        raise BadRecord("missing_field", f"dlq: {f}")
                return "dlq", self._dlq_row(rec, value, kafka_ts_ms), False
            spec = self.specs[table]
            try:
                row = self.build[table](rec)
                if table == "leads" and row[1]:
                    self.lookups.append(
                        (row[1], to_string(rec["msisdn"]), to_datetime(rec.get("created_at") or kafka_ts_ms))
                    )
                return table, row, False
            except (TypeError, ValueError, KeyError):
                for _, f, conv in spec:  # name the field
                    try:
                        conv(rec.get(f))
                    except (TypeError, ValueError, KeyError) as e:
                        raise BadRecord("invalid_value", f"{table}: {f} ({e})") from None
                raise BadRecord("invalid_value", table) from None
        except BadRecord as bad:
            return "dlq", self._bad_row(table, bad, value, kafka_ts_ms), True

    def _ts_or(self, ts: Any, fallback_ms: int) -> int:
        if isinstance(ts, int) and not isinstance(ts, bool) and self.ts_min_ms <= ts < self.ts_max_ms:
            return to_datetime(ts)
        return to_datetime(fallback_ms)

    def _dlq_row(self, rec: dict, value: bytes, kafka_ts_ms: int) -> tuple:
        ts = rec.get("ts")
        ts_ms = ts if isinstance(ts, int) and not isinstance(ts, bool) else None
        try:
            return (
                to_string(rec["source"]),
                to_string(rec["reason"]),
                to_string(rec.get("detail")),
                to_string(rec.get("event_id")),
                self._ts_or(ts, kafka_ts_ms),
                ts_ms,
                self.pseudonyms.redact_text(to_string(rec["raw"])),
                _dlq_id(value),
            )
        except TypeError as e:
            raise BadRecord("invalid_value", f"dlq: {e}") from None

    def _bad_row(self, table: str, bad: BadRecord, value: bytes | None, kafka_ts_ms: int) -> tuple:
        value = value or b""
        event_id, ts_ms = "", None
        try:
            rec = orjson.loads(value)
            if isinstance(rec, dict):
                ident = rec.get(ID_FIELDS.get(table, "event_id"))
                event_id = ident if isinstance(ident, str) else ""
                ts = rec.get("ts")
                ts_ms = ts if isinstance(ts, int) and not isinstance(ts, bool) else None
        except orjson.JSONDecodeError:
            pass
        return (
            "loader",
            bad.reason,
            bad.detail,
            event_id,
            to_datetime(kafka_ts_ms),
            ts_ms,
            self.pseudonyms.redact_text(value.decode("utf-8", errors="replace")),
            _dlq_id(value),
        )
