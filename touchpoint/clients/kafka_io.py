"""Plain Kafka clients around the jobs: producing simulator output, reading topics back, counting."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, Producer

from touchpoint.clients.kafka_config import Broker, address, librdkafka
from touchpoint.config import Settings
from udfs.units import HOUR_MS


def _produce(producer: Producer, topic: str, value: bytes | None, key: bytes | None, **kwargs) -> None:
    """``producer.produce``, waiting for room while librdkafka's local queue is full."""
    while True:
        try:
            producer.produce(topic, value, key=key, **kwargs)
            return
        except BufferError:
            producer.poll(0.05)


class RateLimitedProducer:
    """Produce simulator records to their topics, optionally at a target rate, with a progress line.

    Keeps the end offset of every partition written, so a benchmark can read exactly that slice back.
    """

    def __init__(self, settings: Settings, rate: float | None = None, progress: bool = False):
        self.settings = settings
        self.rate = rate
        self.progress = progress
        self.sent = 0
        self.sent_per_topic: dict[str, int] = defaultdict(int)
        self.end_offsets: dict[str, dict[int, int]] = defaultdict(dict)
        self._errors: list[str] = []
        self._producer = Producer(
            librdkafka(
                settings.kafka,
                **{
                    "linger.ms": 20,
                    "batch.num.messages": 10000,
                    "queue.buffering.max.messages": 500000,
                    "acks": "all",
                    # Java's partitioner, as Flink's Kafka sink uses: a record keyed by msisdn lands in the same
                    # partition number here as ingest's normalised record of it (docs/operations.md, partitions).
                    "partitioner": "murmur2_random",
                },
            )
        )
        self._t0 = time.monotonic()
        self._last_report = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.flush()

    def _delivered(self, err, msg) -> None:
        if err is not None:
            self._errors.append(str(err))
            return
        ends = self.end_offsets[msg.topic()]
        ends[msg.partition()] = max(ends.get(msg.partition(), 0), msg.offset() + 1)

    def send(self, topic_key: str, value: bytes, key: bytes | None = None, partition: int | None = None) -> None:
        topic = getattr(self.settings.topics, topic_key)
        where = {} if partition is None else {"partition": partition}
        _produce(self._producer, topic, value, key, on_delivery=self._delivered, **where)
        self.sent += 1
        self.sent_per_topic[topic_key] += 1
        if self.sent % 1000 == 0:
            self._producer.poll(0)
            self._pace()

    def partitions(self, topic_key: str) -> int:
        """How many partitions the topic has on the broker (it may have been created with another count than
        ``kafka.partitions``)."""
        topic = getattr(self.settings.topics, topic_key)
        meta = self._producer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise RuntimeError(f"topic {topic} not found on {self.settings.kafka.bootstrap}")
        return len(meta.partitions)

    def _pace(self) -> None:
        elapsed = time.monotonic() - self._t0
        if self.rate:
            ahead = self.sent / self.rate - elapsed
            if ahead > 0:
                time.sleep(ahead)
        if self.progress and elapsed - self._last_report >= 1:
            self._last_report = elapsed
            print(
                f"\r  produced {self.sent:>10,} events  {self.sent / max(elapsed, 1e-9):>9,.0f} ev/s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def flush(self) -> None:
        self._producer.flush()
        if self.progress:
            print(file=sys.stderr)
        if self._errors:
            raise RuntimeError(f"{len(self._errors)} records were not delivered: {self._errors[0]}")


class DeliveryError(RuntimeError):
    """Some records of :func:`deliver_all` were not acknowledged; the message is one line."""


def deliver_all(
    broker: Broker,
    records: list[tuple[str, bytes, bytes | None]],
    what: str,
    timeout_s: float = 30.0,
    unreachable_s: float = 5.0,
) -> None:
    """Produce ``(topic, key, value)`` records (acks=all) and wait for every delivery report, for the publishers of
    definitions (campaigns, reference data) where all must land. Raises :class:`DeliveryError` naming how many
    did not; nothing queued is sent after that (a late record could overwrite a newer publication)."""
    from confluent_kafka import KafkaError, Producer

    problems: list[str] = []  # broker errors and failed deliveries, in order
    down_since: list[float] = []
    delivered = 0

    def on_error(e):
        problems.append(e.str())
        if e.code() == KafkaError._ALL_BROKERS_DOWN and not down_since:
            down_since.append(time.monotonic())

    def on_delivery(err, msg):
        nonlocal delivered
        if err is None:
            delivered += 1
        elif err.code() not in (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT):  # our own purge below
            problems.append(f"{msg.key().decode(errors='replace')}: {err.str()}")

    producer = Producer(
        librdkafka(
            broker,
            **{
                "acks": "all",
                # fail within the timeout instead of librdkafka's 5-minute default
                "message.timeout.ms": int(timeout_s * 1000),
                "partitioner": "murmur2_random",  # as the Java client and Flink place a key
                # connection errors reach our one-line error through error_cb, not as log spam
                "log_level": 0,
                "error_cb": on_error,
            },
        )
    )
    for topic, key, value in records:  # a large reference file waits for room in the queue
        _produce(producer, topic, value, key, on_delivery=on_delivery)
    deadline = time.monotonic() + timeout_s
    while producer.flush(0.2) and time.monotonic() < deadline:
        if down_since and time.monotonic() - down_since[0] > unreachable_s:
            break  # no broker answers at all: say so now rather than after the whole timeout
    producer.purge()  # whatever is still queued is not published; drop it rather than send it late
    producer.flush(0)
    if delivered < len(records):
        why = problems[-1] if problems else f"no acknowledgement in {timeout_s:.0f} s"
        topics = ", ".join(sorted({t for t, _, _ in records}))
        raise DeliveryError(
            f"{len(records) - delivered} of {len(records)} {what} not published to {topics} at {address(broker)} "
            f"({why}); publishing again is safe"
        )


def consume(
    broker: Broker,
    topics: Iterable[str],
    *,
    until: Callable[[dict[str, list]], bool] | None = None,
    idle_s: float | None = None,
    timeout_s: float = 120.0,
    with_timestamps: bool = False,
    with_offsets: bool = False,
    on_batch: Callable[[dict[str, list]], None] | None = None,
) -> dict[str, list]:
    """Read ``topics`` from the beginning with a fresh consumer group.

    Stops when ``until(records)`` is true, or when nothing new arrived for ``idle_s`` seconds (Tansu answers
    ListOffsets(LATEST) wrongly, so "the end" is detected by silence, not by offsets), or at ``timeout_s``.
    Records are values, ``(kafka_timestamp_ms, value)`` with ``with_timestamps``, or
    ``(partition, offset, kafka_timestamp_ms, value)`` with ``with_offsets``.
    """
    topics = list(topics)
    consumer = Consumer(
        librdkafka(
            broker,
            **{
                "group.id": f"touchpoint-reader-{time.time_ns()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "session.timeout.ms": 6000,
            },
        )
    )
    consumer.subscribe(topics)
    out: dict[str, list] = {t: [] for t in topics}
    deadline = time.monotonic() + timeout_s
    last, assigned = time.monotonic(), False
    try:
        while time.monotonic() < deadline:
            if not assigned and consumer.assignment():
                # quiet is counted from when the partitions are ours: forming the group takes seconds
                assigned, last = True, time.monotonic()
            batch = [m for m in consumer.consume(10000, timeout=0.5) if m.error() is None]
            for m in batch:
                if with_offsets:
                    out[m.topic()].append((m.partition(), m.offset(), m.timestamp()[1], m.value()))
                else:
                    out[m.topic()].append((m.timestamp()[1], m.value()) if with_timestamps else m.value())
            if batch:
                last = time.monotonic()
                if on_batch:
                    on_batch(out)
            if until is not None and until(out):
                break
            if idle_s is not None and assigned and time.monotonic() - last >= idle_s:
                break
    finally:
        consumer.close()
    return out


def committed(broker: Broker, group: str, topics: Iterable[str], partitions: int = 1) -> dict[str, int]:
    """Offsets consumer ``group`` has committed on each of ``topics``, summed over its partitions (0 where none):
    how many records the group has finished with (a Flink job commits at each completed checkpoint)."""
    from confluent_kafka import TopicPartition

    topics = list(topics)
    c = Consumer(librdkafka(broker, **{"group.id": group, "enable.auto.commit": False}))
    try:
        tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
        out = dict.fromkeys(topics, 0)
        for tp in c.committed(tps, timeout=10):
            out[tp.topic] += max(tp.offset, 0)
        return out
    finally:
        c.close()


def read_topics(
    broker: Broker, topics: Iterable[str], idle_s: float = 3.0, timeout_s: float = 120.0
) -> dict[str, list]:
    """Everything on ``topics``, read until they have been quiet for ``idle_s``."""
    return consume(broker, topics, idle_s=idle_s, timeout_s=timeout_s)


def wait_for_total(
    broker: Broker, topics: Iterable[str], total: int, timeout_s: float = 300.0, progress: bool = False
) -> dict[str, list]:
    """Read ``topics`` until they hold at least ``total`` records together (or time runs out)."""

    def report(out):
        if progress:
            print(f"\r    {sum(map(len, out.values())):>10,} / {total:,}", end="", file=sys.stderr, flush=True)

    out = consume(
        broker, topics, until=lambda o: sum(map(len, o.values())) >= total, timeout_s=timeout_s, on_batch=report
    )
    if progress:
        print(file=sys.stderr)
    return out


#: msisdn of the synthetic events that ``advance_event_time`` writes; consumers of triggers ignore it.
EVENT_TIME_MARKER = "10000"


def advance_event_time(settings: Settings, topic_key: str, ts: int) -> None:
    """Write one event at ``ts`` to every partition of a topic, so that the watermark passes all real events
    before it. A bounded replay flushes event time at end of input; a stream never ends, so demos and tests
    that want every pattern of a finite data set closed do this once the data is in. The marker has the
    shape of the topic's records (normalised events, triggers or behaviour buckets) and matches no rule."""
    if topic_key == "triggers":
        record = {"trigger_id": "event-time-marker", "kind": "event_time_marker", "detected_at": ts, "context": {}}
    elif topic_key == "behaviour":
        record = {"hour_start": ts - ts % HOUR_MS}
    else:  # fields of the normalised shapes (signaling, xDR, orders); each reader ignores the others
        record = {
            "event_type": "location_update",
            "imsi": "460000000000000",
            "rat": "LTE",
            "bytes_up": 0,
            "bytes_down": 0,
            "order_id": "event-time-marker",
            "product_id": "event-time-marker",
            "product_kind": "event_time_marker",
            "action": "event_time_marker",
        }
    with RateLimitedProducer(settings) as producer:
        for part in range(producer.partitions(topic_key)):
            producer.send(
                topic_key,
                json.dumps(
                    {"event_id": f"event-time-marker-{part}", "ts": ts, "msisdn": EVENT_TIME_MARKER} | record
                ).encode(),
                partition=part,
            )
