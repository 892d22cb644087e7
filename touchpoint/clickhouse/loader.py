"""`touchpoint load`: the output topics -> ClickHouse, at least once, without losing or skipping anything.

- Reads the topics named by ``loader.topics`` (topic key -> table of the same name; default all) as consumer
  group ``loader.group_id`` (confluent-kafka, manual commits); each record becomes a row (touchpoint.clickhouse.rows),
  a record it cannot read a ``dlq`` row, counted, never blocking the others.
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

import contextlib
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from touchpoint.clickhouse.backends import Backend, ClickHouseError, connect, redact_url
from touchpoint.clickhouse.migrations import MigrationError, lookup_database_of, migrate
from touchpoint.clickhouse.rows import LOADABLE, LOOKUP, LOOKUP_COLUMNS, PROGRESS_COLUMNS, Converter, columns_of
from touchpoint.clients.kafka_config import librdkafka
from touchpoint.config import Settings

# --- the loader ---------------------------------------------------------------------------------------------


@dataclass
class LoadStats:
    rows: Counter = field(default_factory=Counter)  # table -> rows inserted
    bad: Counter = field(default_factory=Counter)  # topic key -> records sent to dlq by the loader
    markers: int = 0
    retries: int = 0
    commits: int = 0
    commit_failures: int = 0
    unloaded: int = 0  # rows read but not inserted when it stopped
    error: str | None = None  # the last ClickHouse failure it gave up on
    first_record_at: float | None = None  # monotonic
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
    def __init__(
        self,
        settings: Settings,
        url: str | None = None,
        *,
        database: str | None = None,
        max_seconds: float | None = None,
        until_idle: float | None = None,
        progress: bool = True,
        progress_interval_s: float = 2.0,
        out=sys.stderr,
        stop: threading.Event | None = None,
        group: str | None = None,
    ):
        self.settings = settings
        self.url = url or settings.clickhouse.url
        self.database = database or settings.clickhouse.database
        self.cfg = settings.loader
        topics = self.cfg.topics or LOADABLE
        unknown = [k for k in topics if k not in LOADABLE]
        if unknown:
            raise ValueError(f"loader.topics: unknown topic key {unknown[0]!r}; known: {', '.join(LOADABLE)}")
        self.table_of = {getattr(settings.topics, k): k for k in topics}
        self.group_id = group or self.cfg.group_id or f"{settings.kafka.group_prefix}-loader"
        self.max_seconds, self.until_idle = max_seconds, until_idle
        self.progress, self.progress_interval_s, self.out = progress, progress_interval_s, out
        self.converter = Converter(settings)
        #: where the leads' pseudonym -> MSISDN rows go (docs/privacy.md)
        self.lookup_table = f"{lookup_database_of(self.database, settings.privacy.lookup_database)}.{LOOKUP}"
        self.stats = LoadStats()
        #: set by :meth:`stop` or by the caller's own event (the CLI's SIGINT/SIGTERM)
        self._stop = stop or threading.Event()
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
            with contextlib.suppress(Exception):
                b.close()

    def _insert(self, table: str, rows: list) -> None:
        self._open_backend()
        try:
            columns = LOOKUP_COLUMNS if table == self.lookup_table else columns_of(table)
            self._backend.insert(table, columns, rows)
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
            what = f"insert {len(rows)} rows into {table}"
            if not self._retrying(what, lambda table=table, rows=rows: self._insert(table, rows), deadline):
                return False
            del self._rows[table]
            if table != self.lookup_table:  # companion rows of the leads, not records of a topic
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
            rows.append(
                (now, t, p, off, hw, max(hw - off, 0) if hw >= 0 else -1, self._rows_by_tp[(t, p)], self.group_id)
            )
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
        self._say(
            f"{total:,} rows, {rate:,.0f} rows/s, lag {lags or '-'}"
            + (f", {bad} bad -> dlq" if bad else "")
            + (f", {self.stats.retries} retries" if self.stats.retries else "")
        )
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
        return librdkafka(
            self.settings.kafka,
            **{
                "group.id": self.group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": self.settings.kafka.session_timeout_ms,
                # inserts may wait for ClickHouse for a long time without polling: stay in the group meanwhile
                "max.poll.interval.ms": 86_400_000,
                "enable.partition.eof": False,
            },
        )

    def run(self) -> LoadStats:
        from confluent_kafka import Consumer

        deadline = time.monotonic() + self.max_seconds if self.max_seconds else None
        if not self._retrying(f"connect to ClickHouse ({redact_url(self.url)})", self._open_backend, deadline):
            return self.stats
        self._say(f"{', '.join(self.table_of)} -> {self.stats.backend} database {self.database}, group {self.group_id}")
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
                if self._offsets and (
                    self._pending >= self.cfg.batch_rows or now - self._batch_started >= self.cfg.batch_seconds
                ):
                    if not self._flush(deadline):
                        break
                    # idle time counts from the end of a flush (which may have waited long for ClickHouse)
                    now = last_record = max(last_record, time.monotonic())
                self._report()
                quiet = now - max(last_record, self._assigned_at or started)
                if (
                    self.until_idle is not None
                    and not self._offsets
                    and quiet >= self.until_idle
                    and (self._assigned or now - started >= self.until_idle + 30)
                ):
                    break
            if self._offsets and not self.stopping:
                self._flush(deadline)
            elif self._offsets:  # stopping: one attempt series, bounded
                self._flush(time.monotonic() + self.cfg.retry_max_s)
        finally:
            self.stats.unloaded = sum(len(r) for t, r in self._rows.items() if t != self.lookup_table)
            if self.stats.unloaded:
                self._say(
                    f"stopped with {self.stats.unloaded} rows read but not loaded; their offsets are not "
                    "committed, so the next run loads them"
                )
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
        if self.converter.lookups:
            self._rows[self.lookup_table].extend(self.converter.lookups)
            self.converter.lookups.clear()
        self._rows_by_tp[(topic, part)] += 1
        self._pending += 1


def load(settings: Settings, url: str | None = None, **kw) -> LoadStats:
    """Run a :class:`Loader` to completion (``until_idle`` / ``max_seconds`` / :meth:`Loader.stop`)."""
    return Loader(settings, url, **kw).run()
