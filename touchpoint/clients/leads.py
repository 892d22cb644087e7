"""``touchpoint leads tail``: follow the ``leads`` topic the way an outbound system reads it.

A plain kafka-python consumer, deliberately not the project's own helpers: this is what an SMS gateway or a
call centre would write. It prints one line per lead (or the raw JSON with ``--json``) and skips control-group
leads unless asked, since an outbound system must never deliver those.

Where it starts. Tansu answers ListOffsets(LATEST) wrongly (README, "Known limits"), so "only new leads"
cannot be "seek to the end". Instead the tail is a consumer group (``--group``) that commits what it has read:

- a partition with a committed offset resumes there — every lead since the last run, none twice;
- a partition without one is read from the earliest offset, and leads created (``created_at``, the decision
  job's wall clock) before the tail started are skipped, then committed, so the next run resumes;
- ``--from-beginning`` reads everything retained, whatever was committed.

The partitions are assigned directly rather than through a group join, which takes seconds on Tansu; commits
still go to the group, so two tails with the same group each print everything (use one per consumer).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from touchpoint.clients.kafka_config import kafka_python
from touchpoint.config import Settings

#: Fields a line needs; a record without them is reported and skipped.
LINE_FIELDS = ("lead_id", "msisdn", "campaign_id", "channel", "control", "deliver_at", "message")


class TailError(RuntimeError):
    """The broker or the topic failed us; one line."""


def _local(ts_ms: Any, tz: ZoneInfo, sep: str = " ") -> str:
    if not isinstance(ts_ms, int) or isinstance(ts_ms, bool):
        return "-"
    return datetime.fromtimestamp(ts_ms / 1000, tz).isoformat(sep=sep, timespec="seconds")[:19]


def format_line(lead: dict[str, Any], tz: ZoneInfo) -> str:
    """``<created> <lead_id> <msisdn> <campaign_id> <channel> control=<bool> deliver_at=<local> "<message>"``."""
    return (
        f"{_local(lead.get('created_at'), tz)} {lead['lead_id']} {lead['msisdn']} {lead['campaign_id']} "
        f"{lead['channel']} control={str(bool(lead['control'])).lower()} "
        f"deliver_at={_local(lead['deliver_at'], tz, 'T')} "
        f"{json.dumps(str(lead['message']), ensure_ascii=False)}"
    )  # quoted and escaped: one line per lead


#: Bound on every commit and on closing: a stop request ends the tail within a few seconds, whatever the broker does.
CLIENT_TIMEOUT_MS = 5_000
#: Longest single poll: how soon the loop sees a stop request.
POLL_MS = 500


def tail(
    settings: Settings,
    *,
    group: str,
    from_beginning: bool = False,
    include_control: bool = False,
    as_json: bool = False,
    max_leads: int | None = None,
    timeout_s: float | None = None,
    stop: threading.Event | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print leads until ``max_leads`` were printed, ``timeout_s`` passed or ``stop`` is set; returns how many.

    ``stop`` is how the CLI ends a tail on SIGINT/SIGTERM: the loop sees it within one poll (0.5 s), commits what
    it printed and closes. (A KeyboardInterrupt raised inside the Kafka client, in the middle of a request, could
    leave it waiting forever for a response; the flag never interrupts the client.)"""
    stop = stop or threading.Event()
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    logging.getLogger("kafka").setLevel(logging.ERROR)  # its retry warnings are noise in a tail's output

    topic, tz = settings.topics.leads, ZoneInfo(settings.decisions.timezone)
    started_ms = int(time.time() * 1000)
    deadline = time.monotonic() + timeout_s if timeout_s else None
    consumer = _connect(settings, group, timeout_s)
    progress = _Progress(consumer)
    try:
        parts = _wait_for_topic(consumer, settings, deadline, stop, err)
        if parts is None:
            return 0
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        fresh = _seek(consumer, tps, from_beginning)
        start = (
            "from the beginning"
            if from_beginning
            else "new leads only"
            if len(fresh) == len(tps)
            else "from the group's committed offsets"
        )
        print(f"leads: following {topic} at {settings.kafka.bootstrap} as group {group}, {start}", file=err, flush=True)
        while not stop.is_set() and (max_leads is None or progress.printed < max_leads):
            wait_ms = POLL_MS if deadline is None else max(0, min(POLL_MS, int((deadline - time.monotonic()) * 1000)))
            if deadline is not None and wait_ms == 0:
                break
            for tp, records in consumer.poll(timeout_ms=wait_ms).items():
                for r in records:
                    if max_leads is not None and progress.printed >= max_leads:
                        break  # not consumed: the next run starts here
                    progress.next_offsets[tp] = r.offset + 1
                    line = _render(r, tz, as_json, include_control, started_ms if tp in fresh else None, err)
                    if line is not None:
                        print(line, file=out, flush=True)
                        progress.printed += 1
            progress.commit()
    except KeyboardInterrupt:
        pass  # called without ``stop`` from an interactive session: commit what was printed, no traceback
    except KafkaError as e:
        raise TailError(f"leads: Kafka error on {topic}: {e}") from None
    finally:
        with contextlib.suppress(KafkaError):  # best effort on the way out: the loop committed all but the last batch
            progress.commit()
        consumer.close(autocommit=False, timeout_ms=CLIENT_TIMEOUT_MS)
    return progress.printed


def _connect(settings: Settings, group: str, timeout_s: float | None) -> Any:
    """A consumer in ``group`` that never commits on its own (the tail commits what it consumed); the bootstrap
    wait is bounded by the tail's own timeout (10 s at most), so a missing broker is a quick one-line error."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaTimeoutError

    try:
        return KafkaConsumer(
            **kafka_python(settings.kafka),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            bootstrap_timeout_ms=int(1000 * min(10.0, timeout_s or 10.0)),
        )
    except KafkaTimeoutError:
        raise TailError(f"leads: no Kafka broker answers at {settings.kafka.bootstrap}") from None


@dataclass
class _Progress:
    """What this run printed and consumed; the offsets are committed as it goes, so the next run resumes there."""

    consumer: Any
    printed: int = 0
    next_offsets: dict[Any, int] = field(default_factory=dict)  # per partition: after the last record consumed
    committed: dict[Any, int] = field(default_factory=dict)

    def commit(self) -> None:
        from kafka.structs import OffsetAndMetadata

        if self.next_offsets != self.committed:
            self.consumer.commit(
                {tp: OffsetAndMetadata(o, "", -1) for tp, o in self.next_offsets.items()},
                timeout_ms=CLIENT_TIMEOUT_MS,
            )
            self.committed.update(self.next_offsets)


def _wait_for_topic(
    consumer: Any, settings: Settings, deadline: float | None, stop: threading.Event, err: TextIO
) -> set[int] | None:
    """The leads topic's partitions. The topic appears when the decision job first writes; until then, wait
    (saying so once). None when the deadline passed or ``stop`` was set first."""
    topic = settings.topics.leads
    waiting = False
    while not (parts := consumer.partitions_for_topic(topic)):
        if deadline is not None and time.monotonic() >= deadline:
            return None
        if not waiting:
            print(f"leads: waiting for topic {topic} at {settings.kafka.bootstrap}", file=err, flush=True)
            waiting = True
        if stop.wait(1):
            return None
    return parts


def _seek(consumer: Any, tps: list[Any], from_beginning: bool) -> set[Any]:
    """Position each assigned partition; returns the fresh ones (no committed offset), read from the earliest
    offset but skipping leads created before the tail started."""
    fresh = set()
    for tp in tps:
        if from_beginning:
            consumer.seek_to_beginning(tp)
        elif consumer.committed(tp, timeout_ms=CLIENT_TIMEOUT_MS) is None:
            consumer.seek_to_beginning(tp)
            fresh.add(tp)
    return fresh


def _render(
    r, tz: ZoneInfo, as_json: bool, include_control: bool, not_before_ms: int | None, err: TextIO
) -> str | None:
    """The line to print for one record, or None to skip it."""
    try:
        lead = json.loads(r.value)
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        lead = None
    missing = [f for f in LINE_FIELDS if not isinstance(lead, dict) or f not in lead]
    if missing:  # an outbound system must survive a bad record: say so and go on
        why = "not a JSON object" if not isinstance(lead, dict) else f"no {', '.join(missing)}"
        print(f"leads: skipped partition {r.partition} offset {r.offset}: not a lead ({why})", file=err, flush=True)
        return None
    if lead["control"] and not include_control:
        return None
    if not_before_ms is not None and isinstance(lead.get("created_at"), int) and lead["created_at"] < not_before_ms:
        return None
    return r.value.decode("utf-8", "replace") if as_json else format_line(lead, tz)
