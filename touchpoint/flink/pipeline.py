"""A job being assembled: its tables in either I/O mode, its SQL recipes, and running it.

A job never names a connector. It asks for a *source* or *sink* table bound to a topic; the
:class:`Pipeline` renders the table's ``WITH (...)`` clause for the mode it runs in:

- ``replay``: bounded JSON-lines files in, files out (``OUT/<topic>.jsonl``), streaming runtime so that
  watermarks, windows and patterns behave exactly as in production and flush at end of input;
- ``streaming``: Kafka in, Kafka out (at-least-once: Tansu does not isolate transactions).

SQL recipes are files (touchpoint.flink.sql); DDL and views run at once, INSERTs form the job's statement set.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from touchpoint.clients.kafka_config import java_properties
from touchpoint.config import Settings
from touchpoint.flink.environment import Mode, table_environment
from touchpoint.flink.sql import SqlError, render


def _first_line(e: Exception) -> str:
    text = str(getattr(e, "java_exception", e))
    return next((ln.strip() for ln in text.splitlines() if "Exception" in ln or ln.strip()), text)


#: seconds between two progress reports of a replay
PROGRESS_S = 2.0

#: A reference topic's partition that sends nothing for this long stops holding the joins back (its watermark
#: is the epoch): at a start once its rows are read, later when a change has been taken. Rows published
#: before a job starts are read well within it.
REFERENCE_IDLE_S = 10
REFERENCE_IDLE = f"{REFERENCE_IDLE_S} s"


class _LineCounter:
    """Records written so far under a replay's parts directory (finished and in-progress part files), counted
    incrementally: each file is read from where the previous count stopped. Files are known by inode, since an
    in-progress part is renamed when it is finished."""

    def __init__(self, root: Path):
        self.root, self.seen, self.lines = root, {}, 0

    def count(self) -> int:
        for path in self.root.rglob("*"):
            try:
                with path.open("rb") as f:
                    inode = os.fstat(f.fileno()).st_ino
                    f.seek(self.seen.get(inode, 0))
                    chunk = f.read()
            except (IsADirectoryError, FileNotFoundError):  # a part renamed between listing and reading
                continue
            self.seen[inode] = self.seen.get(inode, 0) + len(chunk)
            self.lines += chunk.count(b"\n")
        return self.lines


def default_group(settings: Settings, job_name: str) -> str:
    """The Kafka consumer group a job reads with unless told otherwise (``--group``)."""
    return f"{settings.kafka.group_prefix}-{job_name}"


def _running(client) -> bool:
    try:
        return client.get_job_status().result().name not in ("FINISHED", "FAILED", "CANCELED")
    except Exception:  # the mini-cluster forgets a job as it ends; wait() then reports how it ended
        return False


def _options(opts: dict[str, str]) -> str:
    """A WITH clause's options, quoted as SQL string literals (a password may hold a quote)."""
    return ",\n  ".join(f"'{_sql_quote(k)}' = '{_sql_quote(v)}'" for k, v in opts.items())


def _sql_quote(text: object) -> str:
    return str(text).replace("'", "''")


@dataclass
class Pipeline:
    """One Flink job being assembled: a table environment plus where its tables read and write."""

    settings: Settings
    mode: Mode
    job_name: str
    input_dir: Path | None = None
    output_dir: Path | None = None
    group_id: str | None = None
    #: topic key -> bounded end offsets per partition (streaming benchmarks read a fixed slice).
    bounded_offsets: dict[str, dict[int, int]] = field(default_factory=dict)
    #: Also expose the DataStream API (``stream_env``), for jobs with Python keyed state (decisions).
    datastream: bool = False
    #: More Flink options, e.g. ``execution.state-recovery.path`` to resume from a savepoint.
    flink_options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode == "replay" and (self.input_dir is None or self.output_dir is None):
            raise ValueError("replay needs input_dir and output_dir")
        self.t_env = table_environment(self.settings, self.mode, self.job_name, self.datastream, self.flink_options)
        self._inserts: list[str] = []
        self._sinks: list[str] = []
        self._done: set[str] = set()
        self._ends: dict[str, int] = {}

    # --- tables ------------------------------------------------------------------------------

    def topic(self, key: str) -> str:
        return getattr(self.settings.topics, key)

    def source_options(self, key: str, fmt: str = "raw", optional: bool = False, changelog: bool = False) -> str:
        """``changelog``: a topic of definitions (campaigns, reference data) read whole from its start on every
        fresh start, not from the group's committed offsets, since a fresh job has none of them in state yet
        (a restored job resumes from the offsets in its checkpoint either way)."""
        if self.mode == "replay":
            # Inputs come from the replay input dir, or from an earlier job's output in the same run.
            name = f"{self.topic(key)}.jsonl"
            found = [d / name for d in (self.input_dir, self.output_dir) if (d / name).exists()]
            if not found and optional:  # e.g. profile updates: a replay usually has none
                found = [self._input_file(name, "")]
            if not found:
                raise FileNotFoundError(f"replay input {self.input_dir / name} not found")
            path = found[0]
            opts = {"connector": "filesystem", "path": str(path), "format": fmt}
        else:
            opts = self._kafka(key) | {"format": fmt}
            if changelog:
                opts["scan.startup.mode"] = "earliest-offset"
        if fmt == "json":
            opts["json.ignore-parse-errors"] = "false"
        return _options(opts)

    def data_end(self, times: dict[str, str | Callable[[bytes], int | None]]) -> int:
        """The last event time of a replay's input: the largest event time on each topic ``key`` of ``times``
        (files of the input or of an upstream job), where ``times[key]`` is the field holding it or a function of
        the line (a raw topic's: only a valid line has one); a line without one is left out. A bounded run flushes
        every timer at the end of its input; a rule that must not fire past the data (zero_usage, a lead's expiry)
        compares with this. Streaming: the largest BIGINT (a stream has no end)."""
        if self.mode == "streaming":
            return 2**63 - 1
        return max((self._data_end(key, how) for key, how in times.items()), default=0)

    def _data_end(self, key: str, how: str | Callable[[bytes], int | None]) -> int:
        if key in self._ends:  # the jobs of a group ask for the same topics
            return self._ends[key]
        import orjson

        def field(line: bytes) -> object:
            try:
                return orjson.loads(line).get(how)
            except (orjson.JSONDecodeError, AttributeError):
                return None

        time_of = field if isinstance(how, str) else how
        name = f"{self.topic(key)}.jsonl"
        path = next((d / name for d in (self.input_dir, self.output_dir) if (d / name).exists()), None)
        end = 0
        for line in path.open("rb") if path else ():
            value = time_of(line.rstrip(b"\r\n"))
            if isinstance(value, int) and not isinstance(value, bool) and value > end:
                end = value
        self._ends[key] = end
        return end

    def _kafka(self, key: str) -> dict[str, str]:
        """Options of a Kafka source over topic ``key``: its group's committed offsets (earliest without any:
        Tansu answers ListOffsets(LATEST) wrongly), bounded at ``bounded_offsets[key]`` if given."""
        k = self.settings.kafka
        opts = {
            "connector": "kafka",
            "topic": self.topic(key),
            "properties.bootstrap.servers": k.bootstrap,
            "properties.group.id": self.group_id or default_group(self.settings, self.job_name),
            "properties.session.timeout.ms": str(k.session_timeout_ms),
            "properties.auto.offset.reset": "earliest",
            "scan.startup.mode": "group-offsets",
        } | self._client_properties()
        if key in self.bounded_offsets:
            offs = ";".join(f"partition:{p},offset:{o}" for p, o in sorted(self.bounded_offsets[key].items()))
            opts |= {"scan.bounded.mode": "specific-offsets", "scan.bounded.specific-offsets": offs}
        return opts

    def _client_properties(self) -> dict[str, str]:
        """The Kafka security settings (and any other client property) as connector options."""
        return {f"properties.{k}": v for k, v in java_properties(self.settings.kafka).items()}

    def _input_file(self, name: str, text: str) -> Path:
        """A replay input this job writes itself (converted from files, or empty), under the work dir."""
        path = self.settings.paths.work_dir / "flink-input" / self.job_name / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def sink_options(self, key: str, fmt: str = "json", key_field: str | None = None) -> str:
        """``key_field``: streaming records get this column as their Kafka key, so that all of one key's
        records land in one partition, in order (e.g. a subscriber's events by msisdn)."""
        if self.mode == "replay":
            opts = {"connector": "filesystem", "path": str(self._parts_dir(key)), "format": fmt}
        else:
            opts = {
                "connector": "kafka",
                "topic": self.topic(key),
                "properties.bootstrap.servers": self.settings.kafka.bootstrap,
                "sink.delivery-guarantee": "at-least-once",
                "format": fmt,
            } | {f"properties.{k}": v for k, v in self.settings.kafka.sink_properties.items()}
            opts |= self._client_properties()
            if key_field:
                opts |= {"key.format": "raw", "key.fields": key_field}
                if fmt == "raw":  # a raw value is one column: the key stays out of it
                    opts["value.fields-include"] = "EXCEPT_KEY"
        if fmt == "json":
            # Keep nulls out of the records: consumers treat absent and null alike, lines stay short.
            opts["json.encode.ignore-null-fields"] = "true"
        if key not in self._sinks:
            self._sinks.append(key)
        return _options(opts)

    def _parts_dir(self, key: str) -> Path:
        return self.output_dir / "_parts" / key

    def create_source(
        self,
        table_file: str,
        key: str,
        fmt: str = "raw",
        optional: bool = False,
        changelog: bool = False,
        **params: object,
    ) -> None:
        """A table over a topic (streaming) or ``INPUT/<topic>.jsonl`` (replay; empty if ``optional`` and absent)."""
        self.execute(table_file, connector=self.source_options(key, fmt, optional, changelog), **params)

    def create_event_source(self, table_file: str, key: str, optional: bool = False, **params: object) -> None:
        """A raw topic with event time (``optional``: see :meth:`create_source`). ``table_file`` declares ``rowtime``
        and its watermark, bounded by ``${out_of_orderness_s}`` (``event_time.max_out_of_orderness_ms``). Streaming,
        Flink's Kafka source generates the watermark per partition (it is pushed into the source) and takes the
        least over the partitions it reads, leaving out those idle for ``event_time.idle_timeout_ms``: a record is
        late only when it is behind its own partition by more than the bound, however the topic was keyed."""
        bound_s = self.settings.event_time.max_out_of_orderness_ms / 1000
        self.create_source(table_file, key, optional=optional, out_of_orderness_s=f"{bound_s:.3f}", **params)

    def reference_dir(self) -> Path:
        return self.input_dir / "reference" if self.mode == "replay" else self.settings.paths.reference_dir

    def create_reference(self, table_file: str, name: str, path: Path | None = None) -> None:
        """Reference data as a versioned table for event-time temporal joins (``FOR SYSTEM_TIME AS OF``).

        Streaming: the reference topic through upsert-kafka, so the latest row of an id applies from then on.
        Replay: the reference CSV (validated, typed); Flink's CSV format takes no header, so a header-less copy
        is written under the work dir. ``path`` (global reference data such as the PLMN table, shipped with the
        code) is a CSV in both modes.

        Every row is valid from the epoch: a version applies to every event not yet joined when it arrives ("from
        now on"), whatever the events' own times, and the watermark is the epoch too, so a reference never moves
        event time: it only holds the joins back while it is being read. A replay's file holds them until it is
        read whole (the source ends), so a replay is exact; a topic never ends, so it holds them until it has
        been quiet for ``REFERENCE_IDLE``: at a start until its rows are read, later for that long after a
        change. A watermark from the publish time would not hold them longer, but while the events were idle
        (a feed down, the end of a backlog) it would carry the joins, and every window after them, to the wall
        clock: the events that came next would all be late (docs/operations.md, reference data)."""
        if self.mode == "streaming" and path is None:
            return self._create_versioned(table_file, self._upsert_topic(name, {"value.format": "json"}))
        import csv

        from touchpoint.reference import format_value

        rows = self.read_reference(name, path)
        target = self.settings.paths.work_dir / "flink-reference" / self.job_name / name / "data.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as f:
            w = csv.writer(f)
            for row in rows:
                w.writerow([format_value(v) for v in row.values()])
        opts = {"connector": "filesystem", "path": str(target), "format": "csv", "csv.null-literal": ""}
        self._create_versioned(table_file, opts)

    def _upsert_topic(self, key: str, formats: dict[str, str]) -> dict[str, str]:
        """Options reading topic ``key`` as an upsert table (raw key; ``formats`` say how the value is read).
        upsert-kafka always reads the topic from its start; the group's offsets, committed at each checkpoint,
        only show how far the job has read (lag)."""
        kafka = self._kafka(key)
        opts = {k: v for k, v in kafka.items() if k not in ("scan.startup.mode", "properties.auto.offset.reset")}
        return opts | {
            "connector": "upsert-kafka",
            "key.format": "raw",
            "scan.watermark.idle-timeout": REFERENCE_IDLE,
            **formats,
        }

    def _create_versioned(self, table_file: str, opts: dict[str, str]) -> None:
        """A versioned table whose rows, and watermark, are at the epoch (:meth:`create_reference`)."""
        attrs = ",\n  valid_from AS TO_TIMESTAMP_LTZ(0, 3),\n  WATERMARK FOR valid_from AS valid_from"
        self.execute(table_file, connector=_options(opts), time_attributes=attrs)

    def create_reference_lines(self, table_file: str, name: str) -> None:
        """Reference rows as JSON lines (a ``line STRING`` table; ``${reference}`` in ``table_file`` is ``name``),
        for the Python operators that keep them in state: the reference topic from its start (streaming), or the
        CSV's rows followed by the replay input's ``<topic>.jsonl`` if there is one (e.g. profile updates)."""
        if self.mode == "streaming":
            return self.create_source(table_file, name, changelog=True, reference=name)
        import json

        lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in self.read_reference(name)]
        updates = self.input_dir / f"{self.topic(name)}.jsonl"
        text = "".join(lines) + (updates.read_text() if updates.exists() else "")
        path = self._input_file(f"{name}.jsonl", text)
        opts = {"connector": "filesystem", "path": str(path), "format": "raw"}
        self.execute(table_file, connector=_options(opts), reference=name)

    def read_reference(self, name: str, path: Path | None = None) -> list[dict]:
        """A reference CSV (``reference_dir()/<name>.csv`` unless ``path``) as typed dicts."""
        from touchpoint.reference import read_reference_csv

        src = path or self.reference_dir() / f"{name}.csv"
        if not src.exists():
            raise FileNotFoundError(f"reference data {src} not found")
        return read_reference_csv(src, name)

    def create_campaign_source(self, table_file: str, **params: object) -> None:
        """Campaign definitions: the campaigns topic, or in replay the YAML/JSON files of INPUT/campaigns/
        (else ``paths.campaigns``), one JSON line each, unvalidated: the job validates and dead-letters."""
        if self.mode == "streaming":
            return self.create_source(table_file, "campaigns", changelog=True, **params)
        import json

        objs = self._definition_files("campaigns")
        target = self._input_file("campaigns.jsonl", "".join(json.dumps(obj) + "\n" for obj in objs))
        opts = {"connector": "filesystem", "path": str(target), "format": "raw"}
        self.execute(table_file, connector=_options(opts), **params)

    def create_journey_source(self, table_file: str) -> None:
        """Trial journey definitions as a versioned table keyed by trial product, for the event-time temporal join
        of trial starts (``FOR SYSTEM_TIME AS OF``), valid from the epoch like reference rows
        (:meth:`create_reference`): the journeys topic through upsert-kafka (key: the trial product, value: the
        definition's JSON), or in replay the files of INPUT/journeys/ (else ``paths.journeys``). Unvalidated:
        the job validates and dead-letters."""
        if self.mode == "streaming":
            opts = self._upsert_topic("journeys", {"value.format": "raw", "value.fields-include": "EXCEPT_KEY"})
        else:
            import json

            rows = [
                {
                    "trial_product": obj.get("trial_product") if isinstance(obj, dict) else None,
                    "definition": json.dumps(obj),
                }
                for obj in self._definition_files("journeys")
            ]
            target = self._input_file("journeys.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
            opts = {"connector": "filesystem", "path": str(target), "format": "json"}
        self._create_versioned(table_file, opts)

    def _definition_files(self, what: str) -> list:
        """A replay's definitions (campaigns, journeys): the YAML/JSON files of INPUT/<what>/, else the shipped
        examples (``paths.<what>``), unvalidated."""
        from touchpoint.clients.campaigns import files, load_file

        src = self.input_dir / what
        src = src if src.is_dir() else getattr(self.settings.paths, what)
        return [obj for f in files([str(src)], what) for obj in load_file(f, what)]

    def create_sink(
        self, table_file: str, key: str, fmt: str = "json", key_field: str | None = None, **params: object
    ) -> None:
        self.execute(table_file, connector=self.sink_options(key, fmt, key_field), **params)

    # --- SQL ---------------------------------------------------------------------------------

    def execute(self, sql_file: str, **params: object) -> None:
        """Run DDL/view statements now; collect INSERT statements for the job's statement set.

        A statement already run is skipped, so that the jobs of a group (jobs/analytics.py) can each declare the
        tables and views they share, which are then defined once and planned once."""
        for stmt in render(sql_file, **params):
            if stmt in self._done:
                continue
            self._done.add(stmt)
            if re.match(r"(?is)^\s*INSERT\s", stmt):
                self._inserts.append(stmt)
            else:
                try:
                    self.t_env.execute_sql(stmt)
                except Exception as e:  # py4j error: keep Flink's first line, name our file
                    raise SqlError(f"{sql_file}: {_first_line(e)}") from None

    def _statement_set(self):
        ss = self.t_env.create_statement_set()
        for stmt in self._inserts:
            ss.add_insert_sql(stmt)
        return ss

    def explain(self) -> str:
        """Flink's plan of the collected INSERTs as one statement set, as :meth:`submit` would run them."""
        return self._statement_set().explain()

    def submit(self):
        """Submit all collected INSERTs as one job; returns the TableResult (job runs asynchronously)."""
        if not self._inserts:
            raise ValueError(f"job {self.job_name} has no INSERT statements")
        if self.mode == "replay":
            shutil.rmtree(self.output_dir / "_parts", ignore_errors=True)
        return self._statement_set().execute()

    def run_to_completion(
        self, append: frozenset[str] = frozenset(), progress: Callable[[int, float], None] | None = None
    ) -> dict[str, Path]:
        """Replay: run the job over the bounded input and gather ``OUT/<topic>.jsonl`` files.

        Topics in ``append`` were written by an earlier job of the same replay (e.g. both ingest and
        triggers write the DLQ), so this job's records are added to the file instead of replacing it.
        ``progress(records written so far, seconds)`` is called every ``PROGRESS_S`` while the job runs."""
        result = self.submit()
        if progress is None or self.mode != "replay":
            result.wait()
        else:
            t0, counter = time.monotonic(), _LineCounter(self.output_dir / "_parts")
            client = result.get_job_client()
            while _running(client):
                time.sleep(PROGRESS_S)
                progress(counter.count(), time.monotonic() - t0)
            result.wait()  # raises if the job failed
        return self.collect_outputs(append) if self.mode == "replay" else {}

    def collect_outputs(self, append: frozenset[str] = frozenset()) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for key in self._sinks:
            target = self.output_dir / f"{self.topic(key)}.jsonl"
            parts = sorted(p for p in self._parts_dir(key).rglob("*") if p.is_file() and not p.name.startswith("."))
            with target.open("ab" if key in append else "wb") as f:
                for p in parts:
                    f.write(p.read_bytes())
            out[key] = target
        shutil.rmtree(self.output_dir / "_parts", ignore_errors=True)
        return out
