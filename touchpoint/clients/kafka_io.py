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


#: The raw topics: how the network and the CRM feed the pipeline (the only records :class:`RateLimitedProducer`
#: keys by ``keying``).
RAW_TOPICS = ("signaling", "xdr", "orders")
#: librdkafka's partitioner for each keying of raw lines (touchpoint.config.KEYINGS): its default, CRC32 of the key
#: (random for no key, a batch at a time), or murmur2, the Java client's.
_PARTITIONERS = {"none": "consistent_random", "msisdn": "consistent_random", "msisdn_murmur2": "murmur2_random"}


def raw_key(keying: str, topic_key: str, line: bytes, msisdn: bytes | str | None) -> bytes | None:
    """The Kafka key a producer keying its raw lines by ``keying`` gives ``line``: none, the subscriber's msisdn, or
    the probe that saw it (``probe-<location area>``; an order, which no probe sees, by its order id)."""
    if keying == "none":
        return None
    if keying != "probe":
        return msisdn.encode() if isinstance(msisdn, str) else msisdn
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    rec = rec if isinstance(rec, dict) else {}
    return str(rec.get("order_id") if topic_key == "orders" else f"probe-{rec.get('lac')}").encode()


class RateLimitedProducer:
    """Produce simulator records to their topics, optionally at a target rate, with a progress line.

    Keeps the end offset of every partition written, so a benchmark can read exactly that slice back. Records are
    placed by their key with murmur2, as the Java client and Flink do (so a reference row lands where `reference
    publish` puts it); with ``keying`` (touchpoint.config.KEYINGS), the raw lines are keyed and placed as a probe
    exporter of that kind would, by librdkafka's partitioner of that keying.
    """

    def __init__(
        self, settings: Settings, rate: float | None = None, progress: bool = False, keying: str | None = None
    ):
        self.settings = settings
        self.rate = rate
        self.progress = progress
        self.keying = keying
        self.sent = 0
        self.sent_per_topic: dict[str, int] = defaultdict(int)
        self.end_offsets: dict[str, dict[int, int]] = defaultdict(dict)
        self._errors: list[str] = []
        self._producer = self._client("murmur2_random")
        self._raw = self._client(_PARTITIONERS.get(keying, "murmur2_random")) if keying else self._producer
        self._t0 = time.monotonic()
        self._last_report = 0.0

    def _client(self, partitioner: str) -> Producer:
        conf = {"linger.ms": 20, "batch.num.messages": 10000, "queue.buffering.max.messages": 500000, "acks": "all"}
        return Producer(librdkafka(self.settings.kafka, **conf, partitioner=partitioner))

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
        producer = self._producer
        if self.keying is not None and topic_key in RAW_TOPICS and partition is None:
            producer, key = self._raw, raw_key(self.keying, topic_key, value, key)
        _produce(producer, topic, value, key, on_delivery=self._delivered, **where)
        self.sent += 1
        self.sent_per_topic[topic_key] += 1
        if self.sent % 1000 == 0:
            for client in {self._producer, self._raw}:
                client.poll(0)
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
        for client in {self._producer, self._raw}:
            client.flush()
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


def latest_by_key(broker: Broker, topic: str, field: str, timeout_s: float = 60.0) -> dict[str, dict]:
    """The latest JSON record of each ``field`` value on a topic of definitions or states (campaigns, the
    guardrail's pauses), read from its start; a null value (a tombstone) is passed over."""
    latest: dict[str, dict] = {}
    for value in consume(broker, [topic], idle_s=2, timeout_s=timeout_s)[topic]:
        if value:
            record = json.loads(value)
            latest[record[field]] = record
    return latest


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


def advance_event_time(settings: Settings, topic_key: str, ts: int) -> int:
    """Write one event at ``ts`` to every partition of a topic, so that the watermark passes all real events
    before it. A bounded replay flushes event time at end of input; a stream never ends, so demos and tests
    that want every pattern of a finite data set closed do this once the data is in (on a raw topic, right after
    it: each partition's watermark is its own). The marker has the shape of the topic's records (a valid raw
    event, so that it moves event time; a trigger or a behaviour bucket) and matches no rule: an order unsubscribes
    the first product of the reference catalogue (``paths.reference_dir``), so it is no unknown product. Returns how
    many markers it wrote (one per partition)."""
    if topic_key == "triggers":
        record = {"trigger_id": "event-time-marker", "kind": "event_time_marker", "detected_at": ts, "context": {}}
    elif topic_key == "behaviour":
        record = {"hour_start": ts - ts % HOUR_MS}
    elif topic_key == "orders":
        record = {"product_id": _a_product(settings), "product_kind": "data_package", "action": "unsubscribe"}
    else:  # a signaling event and an xDR (each reader ignores the other's fields)
        record = {"event_type": "location_update", "imsi": "460000000000000", "rat": "LTE"}
        record |= {"bytes_up": 0, "bytes_down": 0}
    with RateLimitedProducer(settings) as producer:
        partitions = producer.partitions(topic_key)
        for part in range(partitions):
            marker = f"event-time-marker-{part}"
            head = {"event_id": marker, "order_id": marker, "ts": ts, "msisdn": EVENT_TIME_MARKER}
            producer.send(topic_key, json.dumps(head | record).encode(), partition=part)
    return partitions


def _a_product(settings: Settings) -> str:
    path = settings.paths.reference_dir / "products.csv"
    if not path.exists():
        return "event-time-marker"
    from touchpoint.reference import read_reference_csv

    return read_reference_csv(path, "products")[0]["product_id"]
