"""`touchpoint load`: the output topics -> ClickHouse, at least once, without losing or skipping anything.

- Reads the topics named by ``loader.topics`` (topic key -> table of the same name) as consumer group
  ``loader.group_id`` (confluent-kafka, manual commits).
- Converts each JSON record to a row (:data:`TABLES`): ms -> ``DateTime`` seconds (the ms also kept where the
  table has a ``*_ms`` column), absent/null -> the column's default ('' / 0 / []), booleans -> UInt8.
- A record that is not JSON, lacks a field its schema requires, or has a value of the wrong type goes to the
  ``dlq`` table (source ``loader``, reason ``bad_json`` / ``missing_field`` / ``invalid_value``, detail
  ``<topic>: <field>``) and is counted; it never blocks the others.
- Inserts per table in batches bounded by ``loader.batch_rows`` and ``loader.batch_seconds``; commits the
  offsets only after every insert of the batch succeeded. A failing insert (ClickHouse down) is retried with
  exponential backoff (``retry_initial_s`` .. ``retry_max_s``) while consuming pauses, so nothing is skipped and
  memory stays bounded. Redelivered records replace their twins (ReplacingMergeTree on deterministic ids):
  effectively once.
- After each commit one ``loader_progress`` row per partition (committed offset, high watermark, lag).
- Stops cleanly on :meth:`Loader.stop` (SIGTERM / Ctrl-C in the CLI), ``max_seconds`` or ``until_idle``.

Lag is the broker's high watermark, as last reported in fetch responses, minus the committed offset. Tansu's
high watermark lags what was written (README), so there the lag is a lower bound.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import orjson

from touchpoint import ROOT
from touchpoint.clickhouse.backends import Backend, ClickHouseError, MigrationError, connect, migrate
from touchpoint.config import Settings
from touchpoint.clients.kafka_io import EVENT_TIME_MARKER

MAX_DATETIME = 4_294_967_295  # DateTime is UInt32 seconds
MAX_DATETIME_MS = MAX_DATETIME * 1000


class BadRecord(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


# --- value conversions (each raises TypeError/ValueError on a wrong type) ------------------------------------


def _s(v: Any) -> str:
    if type(v) is str:
        return v
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise TypeError("expected a string")


def _i(v: Any) -> int:
    if type(v) is int:
        return v
    if v is None:
        return 0
    if type(v) is float and v.is_integer():
        return int(v)
    raise TypeError("expected an integer")


def _u(v: Any) -> int:
    if type(v) is int and v >= 0:
        return v
    n = _i(v)
    if n < 0:
        raise ValueError("expected an integer >= 0")
    return n


def _dt(v: Any) -> int:
    """ms since the epoch -> DateTime seconds (floored, clamped to DateTime's range)."""
    if type(v) is int and 0 <= v <= MAX_DATETIME_MS:
        return v // 1000
    return min(max(_i(v) // 1000, 0), MAX_DATETIME)


def _f(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError("expected a number")


def _nf(v: Any) -> float | None:
    return None if v is None else _f(v)


def _b(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, bool) or v in (0, 1):
        return int(v)
    raise TypeError("expected a boolean")


def _sa(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return v
    raise TypeError("expected a list of strings")


def _json(v: Any) -> str:
    if v is None:
        return ""
    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()


def _names(v: Any) -> list[str]:
    if v is None:
        return []
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return sorted(v)


def _counts(v: Any) -> list[int]:
    if v is None:
        return []
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return [_u(v[k]) for k in sorted(v)]


#: table -> [(column, record field, conversion)]; the table of topic key K is K. Required fields come from the
#: topic's JSON Schema (schemas/<topic>.schema.json). The dlq table is built by :func:`_dlq_row`.
TABLES: dict[str, list[tuple[str, str, Callable[[Any], Any]]]] = {
    "triggers": [("trigger_id", "trigger_id", _s), ("msisdn", "msisdn", _s), ("kind", "kind", _s),
                 ("ts", "ts", _dt), ("ts_ms", "ts", _i), ("detected_at", "detected_at", _dt),
                 ("detected_at_ms", "detected_at", _i), ("context", "context", _json)],
    "leads": [("lead_id", "lead_id", _s), ("msisdn", "msisdn", _s), ("campaign_id", "campaign_id", _s),
              ("offer_id", "offer_id", _s), ("channel", "channel", _s), ("channels", "channels", _sa),
              ("message", "message", _s), ("trigger_id", "trigger_id", _s),
              ("trigger_kind", "trigger_kind", _s), ("trigger_ts", "trigger_ts", _dt),
              ("trigger_ts_ms", "trigger_ts", _i), ("created_at", "created_at", _dt),
              ("created_at_ms", "created_at", _i), ("deliver_at", "deliver_at", _dt),
              ("expires_at", "expires_at", _dt), ("control", "control", _b), ("reasons", "reasons", _sa)],
    "decisions": [("decision_id", "decision_id", _s), ("trigger_id", "trigger_id", _s),
                  ("trigger_kind", "trigger_kind", _s), ("msisdn", "msisdn", _s),
                  ("campaign_id", "campaign_id", _s), ("trigger_ts", "trigger_ts", _dt),
                  ("decided_at", "decided_at", _dt), ("decided_at_ms", "decided_at", _i),
                  ("result", "result", _s), ("reason", "reason", _s), ("detail", "detail", _s),
                  ("lead_id", "lead_id", _s), ("deliver_at", "deliver_at", _dt)],
    "behaviour": [("msisdn", "msisdn", _s), ("hour_start", "hour_start", _dt), ("calls_mo", "calls_mo", _u),
                  ("calls_mt", "calls_mt", _u), ("call_seconds", "call_seconds", _u), ("sms", "sms", _u),
                  ("bytes_up", "bytes_up", _u), ("bytes_down", "bytes_down", _u), ("g3_bytes", "g3_bytes", _u),
                  ("hotline_dials", "hotline_dials", _u), ("distinct_cells", "distinct_cells", _u),
                  ("g3_data_share", "g3_data_share", _nf), ("regions", "regions", _sa),
                  ("roaming", "roaming", _b), ("last_imei", "last_imei", _s), ("last_tac", "last_tac", _s)],
    "region_metrics": [("region_id", "region_id", _s), ("region_name", "region_name", _s),
                       ("region_kind", "region_kind", _s), ("lat", "lat", _f), ("lon", "lon", _f),
                       ("window_start", "window_start", _dt), ("window_end", "window_end", _dt),
                       ("subscribers", "subscribers", _u), ("g3_subscribers", "g3_subscribers", _u),
                       ("g3_capable", "g3_capable", _u), ("opportunities", "opportunities", _u),
                       ("g3_coverage", "g3_coverage", _f), ("g3_data_share", "g3_data_share", _nf),
                       ("product_names", "products", _names), ("product_counts", "products", _counts)],
    "outcomes": [("outcome_id", "outcome_id", _s), ("lead_id", "lead_id", _s), ("trigger_id", "trigger_id", _s),
                 ("msisdn", "msisdn", _s), ("campaign_id", "campaign_id", _s), ("status", "status", _s),
                 ("reason", "reason", _s), ("ts", "ts", _dt), ("ts_ms", "ts", _i), ("order_id", "order_id", _s)],
    "orders": [("order_id", "order_id", _s), ("msisdn", "msisdn", _s), ("product_id", "product_id", _s),
               ("product_kind", "product_kind", _s), ("action", "action", _s), ("channel", "channel", _s),
               ("lead_id", "lead_id", _s), ("ts", "ts", _dt), ("ts_ms", "ts", _i)],
    "traffic": [("window_start", "window_start", _dt), ("window_end", "window_end", _dt),
                ("source", "source", _s), ("event_type", "event_type", _s), ("events", "events", _u)],
}
DLQ_COLUMNS = ["source", "reason", "detail", "event_id", "ts", "event_ts_ms", "raw", "dlq_id"]
PROGRESS_COLUMNS = ["ts", "topic", "partition", "committed", "end_offset", "lag", "rows", "group_id"]
LOADABLE = [*TABLES, "dlq"]
#: The id field of each table's records (for the dlq row of a bad record); tables without one use ''.
ID_FIELDS = {"triggers": "trigger_id", "leads": "lead_id", "decisions": "decision_id", "outcomes": "outcome_id",
             "orders": "order_id", "dlq": "event_id"}


def columns_of(table: str) -> list[str]:
    return DLQ_COLUMNS if table == "dlq" else [c for c, _, _ in TABLES[table]]


def required_fields(topic_key: str) -> list[str]:
    schema = ROOT / "schemas" / f"{topic_key.replace('_', '-')}.schema.json"
    return json.loads(schema.read_text()).get("required", [])


def _dlq_id(value: bytes) -> str:
    return hashlib.blake2b(value, digest_size=10).hexdigest()


_FAST_CHECK = {_s: "type({x}) is str", _i: "type({x}) is int", _u: "type({x}) is int and {x} >= 0"}


def _compile(table: str, spec: list[tuple[str, str, Callable[[Any], Any]]],
             required: list[str]) -> Callable[[dict], tuple]:
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
        lines.append(f"    {x} = g({f!r})")
        if f in required:
            lines.append(f"    if {x} is None: raise BadRecord('missing_field', {table + ': ' + f!r})")
        if conv is _dt:
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

    def __init__(self, settings: Settings):
        self.ts_min_ms = settings.ingest.ts_min_ms
        self.ts_max_ms = settings.ingest.ts_max_ms
        self.required = {t: required_fields(t) for t in LOADABLE}
        self.build = {t: _compile(t, spec, self.required[t]) for t, spec in TABLES.items()}

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
            if rec.get("msisdn") == EVENT_TIME_MARKER and str(rec.get("event_id", "")).startswith("event-time-"):
                return None
            if table == "dlq":
                for f in self.required["dlq"]:
                    if rec.get(f) is None:
                        raise BadRecord("missing_field", f"dlq: {f}")
                return "dlq", self._dlq_row(rec, value, kafka_ts_ms), False
            spec = TABLES[table]
            try:
                return table, self.build[table](rec), False
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
            return _dt(ts)
        return _dt(fallback_ms)

    def _dlq_row(self, rec: dict, value: bytes, kafka_ts_ms: int) -> tuple:
        ts = rec.get("ts")
        ts_ms = ts if isinstance(ts, int) and not isinstance(ts, bool) else None
        try:
            return (_s(rec["source"]), _s(rec["reason"]), _s(rec.get("detail")), _s(rec.get("event_id")),
                    self._ts_or(ts, kafka_ts_ms), ts_ms, _s(rec["raw"]), _dlq_id(value))
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
        return ("loader", bad.reason, bad.detail, event_id, _dt(kafka_ts_ms), ts_ms,
                value.decode("utf-8", errors="replace"), _dlq_id(value))


# --- the loader ---------------------------------------------------------------------------------------------


@dataclass
class LoadStats:
    rows: Counter = field(default_factory=Counter)        # table -> rows inserted
    bad: Counter = field(default_factory=Counter)         # topic key -> records sent to dlq by the loader
    markers: int = 0
    retries: int = 0
    commits: int = 0
    commit_failures: int = 0
    unloaded: int = 0                                      # rows read but not inserted when it stopped
    error: str | None = None                               # the last ClickHouse failure it gave up on
    first_record_at: float | None = None                   # monotonic
    last_commit_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)
    backend: str = ""

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_s(self) -> float:
        if self.first_record_at is None or self.last_commit_at is None:
            return 0.0
        return self.total / max(self.last_commit_at - self.first_record_at, 1e-9)


class Loader:
    def __init__(self, settings: Settings, url: str | None = None, *, database: str | None = None,
                 max_seconds: float | None = None, until_idle: float | None = None, progress: bool = True,
                 progress_interval_s: float = 2.0, out=sys.stderr):
        self.settings = settings
        self.url = url or settings.clickhouse.url
        self.database = database or settings.clickhouse.database
        self.cfg = settings.loader
        unknown = [k for k in self.cfg.topics if k not in LOADABLE]
        if unknown:
            raise ValueError(f"loader.topics: unknown topic key {unknown[0]!r}; known: {', '.join(LOADABLE)}")
        self.table_of = {getattr(settings.topics, k): k for k in self.cfg.topics}
        self.max_seconds, self.until_idle = max_seconds, until_idle
        self.progress, self.progress_interval_s, self.out = progress, progress_interval_s, out
        self.converter = Converter(settings)
        self.stats = LoadStats()
        self._stop = threading.Event()
        self._backend: Backend | None = None
        self._consumer = None
        self._assigned: set[tuple[str, int]] = set()
        self._reset_batch()
        self._committed: dict[tuple[str, int], int] = {}
        self._position: dict[tuple[str, int], int] = {}
        self._assigned_at: float | None = None
        self._last_report = time.monotonic()
        self._reported_total = 0

    # -- control

    def stop(self) -> None:
        """Ask the loader to finish: it inserts and commits what it has read (if ClickHouse is up) and returns."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"load: {text}", file=self.out, flush=True)

    # -- ClickHouse with retries

    def _retrying(self, what: str, action: Callable[[], Any], deadline: float | None) -> bool:
        """Run ``action`` until it succeeds (True) or the loader is stopped / past ``deadline`` (False)."""
        delay = self.cfg.retry_initial_s
        attempt = 0
        while True:
            try:
                action()
                if attempt:
                    self._say(f"{what}: ok after {attempt} retries")
                return True
            except MigrationError:
                raise
            except (ClickHouseError, OSError, EOFError) as e:
                attempt += 1
                self.stats.retries += 1
                if self._backend is not None and isinstance(e, (OSError, EOFError)):
                    self._close_backend()
                if self.stopping or (deadline is not None and time.monotonic() + delay > deadline):
                    self._say(f"{what} failed: {e}; giving up ({'stopping' if self.stopping else 'time is up'})")
                    self.stats.error = f"{what} failed: {e}"
                    return False
                self._say(f"{what} failed: {e}; retry {attempt} in {delay:.1f} s")
                self._stop.wait(delay)
                delay = min(delay * 2, self.cfg.retry_max_s)

    def _open_backend(self) -> None:
        if self._backend is None:
            backend = connect(self.settings, self.url, self.database)
            try:
                applied = migrate(backend, self.settings)
            except Exception:
                backend.close()
                raise
            if applied:
                self._say(f"applied migrations {', '.join(m.name for m in applied)}")
            self._backend = backend
            self.stats.backend = backend.describe()

    def _close_backend(self) -> None:
        b, self._backend = self._backend, None
        if b is not None:
            try:
                b.close()
            except Exception:
                pass

    def _insert(self, table: str, rows: list) -> None:
        self._open_backend()
        try:
            self._backend.insert(table, columns_of(table), rows)
        except ClickHouseError:
            if self._backend.kind == "server":
                self._close_backend()  # reconnect (and re-detect) on the next attempt
            raise

    # -- batches

    def _reset_batch(self) -> None:
        self._rows: dict[str, list] = defaultdict(list)
        self._pending = 0
        self._offsets: dict[tuple[str, int], int] = {}
        self._rows_by_tp: Counter = Counter()
        self._batch_started: float | None = None

    def _flush(self, deadline: float | None) -> bool:
        """Insert the batch table by table, then commit its offsets. False: stopped before all was inserted."""
        if not self._offsets:
            return True
        for table in list(self._rows):
            rows = self._rows[table]
            if not self._retrying(f"insert {len(rows)} rows into {table}", lambda: self._insert(table, rows),
                                  deadline):
                return False
            del self._rows[table]
            self.stats.rows[table] += len(rows)
        self._commit()
        self._reset_batch()
        return True

    def _commit(self) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(self._offsets.items())]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            # the rows are in ClickHouse; the records will be delivered again and replace their twins
            self.stats.commit_failures += 1
            self._say(f"offset commit failed ({e}); those records will be loaded again (de-duplicated)")
            return
        self.stats.commits += 1
        self.stats.last_commit_at = time.monotonic()
        self._committed.update(self._offsets)
        self._write_progress()

    def _high_watermark(self, topic: str, partition: int) -> int:
        from confluent_kafka import TopicPartition

        try:
            _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
        except Exception:
            return -1
        return high if high is not None and high >= 0 else -1

    def _write_progress(self) -> None:
        now = int(time.time())
        rows = []
        for (t, p), off in sorted(self._offsets.items()):
            hw = self._high_watermark(t, p)
            rows.append((now, t, p, off, hw, max(hw - off, 0) if hw >= 0 else -1, self._rows_by_tp[(t, p)],
                         self.cfg.group_id))
        try:
            self._backend.insert("loader_progress", PROGRESS_COLUMNS, rows)
        except ClickHouseError as e:  # monitoring only: never worth a retry
            self._say(f"loader_progress not written: {e}")

    def lag(self) -> dict[str, int | None]:
        """topic -> records not loaded yet (high watermark - committed), None when unknown."""
        out: dict[str, int | None] = {}
        for t, p in sorted(self._assigned):
            hw = self._high_watermark(t, p)
            base = self._committed.get((t, p), self._position.get((t, p)))
            if hw < 0 or base is None:
                out.setdefault(t, None)
                continue
            out[t] = (out.get(t) or 0) + max(hw - base, 0)
        return {self.table_of.get(t, t): v for t, v in out.items()}

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        dt = now - self._last_report
        total = self.stats.total
        if not force and (dt < self.progress_interval_s or (total == self._reported_total and dt < 30)):
            return
        rate = (total - self._reported_total) / max(dt, 1e-9)
        lags = " ".join(f"{t}={'?' if v is None else v}" for t, v in self.lag().items())
        bad = sum(self.stats.bad.values())
        self._say(f"{total:,} rows, {rate:,.0f} rows/s, lag {lags or '-'}"
                  + (f", {bad} bad -> dlq" if bad else "") + (f", {self.stats.retries} retries"
                                                               if self.stats.retries else ""))
        self._last_report, self._reported_total = now, total

    # -- main loop

    def _on_assign(self, consumer, partitions) -> None:
        self._assigned = {(tp.topic, tp.partition) for tp in partitions}
        self._assigned_at = time.monotonic()

    def _on_revoke(self, consumer, partitions) -> None:
        # Rebalance: hand over with what was read inserted and committed; if that is impossible now, forget the
        # batch (not committed, so the partitions' next owner reads it again).
        if self._offsets and not self._flush(time.monotonic() + self.cfg.retry_max_s):
            self._reset_batch()
        self._assigned = set()

    def _consumer_config(self) -> dict:
        return {
            "bootstrap.servers": self.settings.kafka.bootstrap,
            "group.id": self.cfg.group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": self.settings.kafka.session_timeout_ms,
            # inserts may wait for ClickHouse for a long time without polling: stay in the group meanwhile
            "max.poll.interval.ms": 86_400_000,
            "enable.partition.eof": False,
        }

    def run(self) -> LoadStats:
        from confluent_kafka import Consumer

        deadline = time.monotonic() + self.max_seconds if self.max_seconds else None
        if not self._retrying(f"connect to ClickHouse ({self.url})", self._open_backend, deadline):
            return self.stats
        self._say(f"{', '.join(self.table_of)} -> {self.stats.backend} database {self.database}, "
                  f"group {self.cfg.group_id}")
        self._consumer = Consumer(self._consumer_config())
        self._consumer.subscribe(list(self.table_of), on_assign=self._on_assign, on_revoke=self._on_revoke)
        last_record = time.monotonic()
        started = last_record
        try:
            while not self.stopping:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                room = self.cfg.batch_rows - self._pending
                msgs = self._consumer.consume(max(1, min(room, 10_000)), timeout=0.2)
                for m in msgs:
                    if m.error() is not None:
                        continue
                    self._add(m)
                now = time.monotonic()
                if msgs:
                    last_record = now
                if self._offsets and (self._pending >= self.cfg.batch_rows
                                      or now - self._batch_started >= self.cfg.batch_seconds):
                    if not self._flush(deadline):
                        break
                    # idle time counts from the end of a flush (which may have waited long for ClickHouse)
                    now = last_record = max(last_record, time.monotonic())
                self._report()
                quiet = now - max(last_record, self._assigned_at or started)
                if (self.until_idle is not None and not self._offsets and quiet >= self.until_idle
                        and (self._assigned or now - started >= self.until_idle + 30)):
                    break
            if self._offsets and not self.stopping:
                self._flush(deadline)
            elif self._offsets:  # stopping: one attempt series, bounded
                self._flush(time.monotonic() + self.cfg.retry_max_s)
        finally:
            self.stats.unloaded = sum(map(len, self._rows.values()))
            if self.stats.unloaded:
                self._say(f"stopped with {self.stats.unloaded} rows read but not loaded; their offsets are not "
                          "committed, so the next run loads them")
            self._rows.clear()
            self._offsets.clear()
            self._report(force=True)
            try:
                self._consumer.close()
            finally:
                self._close_backend()
        return self.stats

    def _add(self, m) -> None:
        topic, part = m.topic(), m.partition()
        table = self.table_of.get(topic)
        if table is None:
            return
        kind, ts_ms = m.timestamp()
        if kind == 0 or ts_ms is None or ts_ms <= 0:
            ts_ms = int(time.time() * 1000)
        out = self.converter.convert(table, m.value(), ts_ms)
        if self.stats.first_record_at is None:
            self.stats.first_record_at = time.monotonic()
        self._offsets[(topic, part)] = m.offset() + 1
        self._position[(topic, part)] = m.offset() + 1
        if self._batch_started is None:
            self._batch_started = time.monotonic()
        if out is None:
            self.stats.markers += 1
            return
        target, row, bad = out
        if bad:
            self.stats.bad[table] += 1
        self._rows[target].append(row)
        self._rows_by_tp[(topic, part)] += 1
        self._pending += 1


def load(settings: Settings, url: str | None = None, **kw) -> LoadStats:
    """Run a :class:`Loader` to completion (``until_idle`` / ``max_seconds`` / :meth:`Loader.stop`)."""
    return Loader(settings, url, **kw).run()


# --- synthetic records and the throughput measurement -------------------------------------------------------


def synthetic_records(n: int, seed: int = 1, start_ms: int | None = None) -> Iterator[tuple[str, dict]]:
    """``n`` valid records for the loaded topics, deterministic for a seed: (topic key, record). Mix: ~half
    behaviour, then triggers, decisions, leads, traffic, region_metrics, orders, outcomes, dlq. Every record has
    its own id (behaviour: its own (msisdn, hour)), over the 72 hours from ``start_ms`` (default: 72 h ago)."""
    import random

    rnd = random.Random(seed)
    hour = 3_600_000
    start = start_ms if start_ms is not None else (int(time.time() * 1000) // hour - 72) * hour
    kinds = ["dial_114", "region_entry", "dwell", "handset_change", "quota_20mb"]
    mix = (["behaviour"] * 10 + ["triggers"] * 3 + ["decisions"] * 2 + ["leads"] * 2
           + ["traffic", "region_metrics", "orders", "outcomes", "dlq"])
    for i in range(n):
        key = mix[i % len(mix)]
        msisdn = f"139{(i // 72) % 10**8:08d}"
        ts = start + (i % 72) * hour + rnd.randrange(hour)
        if key == "behaviour":
            up, down = rnd.randrange(10**6), rnd.randrange(10**7)
            g3 = rnd.randrange(up + down + 1)
            rec = {"msisdn": msisdn, "hour_start": ts - ts % hour, "calls_mo": rnd.randrange(5),
                   "calls_mt": rnd.randrange(5), "call_seconds": rnd.randrange(900), "sms": rnd.randrange(4),
                   "bytes_up": up, "bytes_down": down, "g3_bytes": g3, "g3_data_share": g3 / (up + down or 1),
                   "hotline_dials": rnd.randrange(2), "distinct_cells": rnd.randrange(1, 6),
                   "regions": [f"mall-{rnd.randrange(20):03d}"], "roaming": rnd.random() < 0.05,
                   "last_imei": f"35693803{rnd.randrange(10**7):07d}", "last_tac": "35693803"}
        elif key == "triggers":
            rec = {"trigger_id": f"t-{i:016x}", "msisdn": msisdn, "kind": rnd.choice(kinds), "ts": ts,
                   "detected_at": ts + rnd.randrange(2000), "context": {"n": i}}
        elif key == "decisions":
            rec = {"decision_id": f"d-{i:020x}", "trigger_id": f"t-{i:016x}", "trigger_kind": rnd.choice(kinds),
                   "msisdn": msisdn, "campaign_id": f"c{rnd.randrange(10)}", "trigger_ts": ts,
                   "decided_at": ts + 1500, "result": "suppressed", "reason": "audience", "detail": "x"}
        elif key == "leads":
            rec = {"lead_id": f"l-{i:020x}", "msisdn": msisdn, "campaign_id": f"c{rnd.randrange(10)}",
                   "offer_id": "o1", "channel": "sms", "channels": ["sms"], "message": "hello",
                   "trigger_id": f"t-{i:016x}", "trigger_kind": rnd.choice(kinds), "trigger_ts": ts,
                   "created_at": ts + 1000, "deliver_at": ts, "expires_at": ts + 48 * hour, "control": False,
                   "reasons": ["trigger:dial_114"]}
        elif key == "traffic":
            w = ts - ts % 60_000
            rec = {"window_start": w, "window_end": w + 60_000, "source": "signaling",
                   "event_type": f"type{i}", "events": rnd.randrange(1, 1000)}
        elif key == "region_metrics":
            w = ts - ts % 900_000
            rec = {"region_id": f"R{i:06d}", "region_kind": "mall", "window_start": w, "window_end": w + 900_000,
                   "subscribers": 50, "g3_subscribers": 10, "g3_capable": 30, "g3_coverage": 0.2,
                   "opportunities": 20, "g3_data_share": 0.3, "products": {"g3_basic": 9, "12580": 4}}
        elif key == "orders":
            rec = {"order_id": f"o-{i}", "ts": ts, "msisdn": msisdn, "product_id": "data_package_50",
                   "product_kind": "data_package", "action": "subscribe", "channel": "sms"}
        elif key == "outcomes":
            rec = {"outcome_id": f"oc-{i}", "msisdn": msisdn, "campaign_id": "c1", "status": "delivered",
                   "ts": ts, "lead_id": f"l-{i:020x}"}
        else:
            rec = {"source": "signaling", "reason": "bad_json", "detail": None, "event_id": f"s-{i}", "ts": ts,
                   "raw": f"{{broken {i}"}
        yield key, rec


def measure(settings: Settings, url: str | None = None, records: int = 200_000, seed: int = 1,
            batch_rows: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Loader throughput: produce ``records`` synthetic records (:func:`synthetic_records`) to fresh topics at
    ``kafka.bootstrap``, load them with a fresh group into a fresh database of ``url`` (default
    ``clickhouse.url``; ``chdb:`` -> a temporary directory), and return rows/s from the first record read to the
    last commit (group join and producing excluded). Drops the database (or directory) afterwards. chdb: call it
    in a process that has no other chdb directory open."""
    import shutil
    import tempfile

    from touchpoint.clients.kafka_io import RateLimitedProducer
    from touchpoint.infra.stack import create_topics

    run_id = f"{int(time.time())}{threading.get_ident() % 1000:03d}"
    url = url or settings.clickhouse.url
    tmp = None
    if url.rstrip("/") == "chdb:":
        tmp = tempfile.mkdtemp(prefix="touchpoint-bench-chdb-", dir=settings.paths.work_dir
                               if settings.paths.work_dir.exists() else None)
        url = f"chdb://{tmp}"
    keys = [k for k in LOADABLE]
    topics = {k: f"bench-load-{run_id}-{k.replace('_', '-')}" for k in keys}
    loader_cfg = settings.loader.model_dump() | {"topics": keys, "group_id": f"bench-loader-{run_id}"}
    if batch_rows:
        loader_cfg["batch_rows"] = batch_rows
    s = settings.model_copy(update={"topics": settings.topics.model_copy(update=topics),
                                    "loader": settings.loader.model_copy(update=loader_cfg)})
    database = f"touchpoint_bench_{run_id}"
    create_topics(s.kafka.bootstrap, list(topics.values()), 1)
    with RateLimitedProducer(s) as producer:
        for key, rec in synthetic_records(records, seed):
            producer.send(key, orjson.dumps(rec))
    stats = Loader(s, url, database=database, until_idle=3.0, max_seconds=600, progress=progress).run()
    result = {"backend": stats.backend, "records": records, "rows": stats.total,
              "seconds": round((stats.last_commit_at or 0) - (stats.first_record_at or 0), 3),
              "rows_per_s": round(stats.rows_per_s), "batch_rows": s.loader.batch_rows}
    try:
        with connect(s, url, database) as b:
            b.execute(f"DROP DATABASE IF EXISTS {database}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse

    from touchpoint.config import load_settings

    p = argparse.ArgumentParser(prog="python -m touchpoint.loader",
                                description="measure `touchpoint load` throughput (rows/s) into ClickHouse")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--url", action="append", help="backend(s) to measure (default clickhouse.url); repeatable")
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--batch-rows", type=int)
    args = p.parse_args(argv)
    settings = load_settings(args.config)
    for url in args.url or [settings.clickhouse.url]:
        print(json.dumps(measure(settings, url, args.records, batch_rows=args.batch_rows)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
