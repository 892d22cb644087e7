"""The definitions in force, as the console sees them: the latest record of each key of the compacted topics
(campaigns, journeys, the guardrail's pauses), kept current by one background consumer per topic that reads from
the start and then follows. A page reads the table at once instead of reading a topic; a broker out of reach is
a message naming it, and the table keeps what it had."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from touchpoint.config import Settings

#: a topic the console follows: its settings key and the field its records are keyed by
FOLLOWED = {"campaigns": "id", "journeys": "trial_product", "guardrail": "campaign_id"}
_QUIET = logging.getLogger("touchpoint.console.kafka")
_QUIET.setLevel(logging.CRITICAL)
#: how often a reachable broker is confirmed while nothing arrives
_PROBE_S = 5.0
#: the end of a topic is its silence for this long (Tansu's answers to ListOffsets(LATEST) are not to be trusted)
_QUIET_S = 1.5


class TopicTable:
    """The latest record per key of one compacted topic, kept by a daemon thread (a null value removes a key)."""

    def __init__(self, settings: Settings, topic_key: str):
        self.settings, self.topic = settings, getattr(settings.topics, topic_key)
        self.field = FOLLOWED[topic_key]
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._stop = threading.Event()
        self.problem: str | None = None
        self._thread = threading.Thread(target=self._follow, name=f"console-{topic_key}", daemon=True)

    def start(self) -> TopicTable:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def rows(self, wait_s: float = 0.0) -> dict[str, dict[str, Any]]:
        """The table now, after waiting up to ``wait_s`` for the first read to the end of the topic."""
        if wait_s:
            self._loaded.wait(wait_s)
        with self._lock:
            return dict(self._rows)

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set()

    def put(self, key: str, record: dict[str, Any]) -> None:
        """What the console itself just published (delivered, acks=all), before the topic echoes it back."""
        with self._lock:
            self._rows[key] = record

    def _where(self) -> str:
        return f"Kafka ({self.settings.kafka.bootstrap}, topic {self.topic})"

    def _unreachable(self) -> str:
        """One message for every followed topic (the page says it once)."""
        return (
            f"Kafka ({self.settings.kafka.bootstrap}) is unreachable: the definitions shown are the last read, "
            "and nothing can be published until it is back"
        )

    def _follow(self) -> None:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

        from touchpoint.clients.kafka_config import librdkafka

        def on_error(e):
            if e.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._RESOLVE):
                self.problem = self._unreachable()

        consumer = Consumer(
            librdkafka(
                self.settings.kafka,
                **{
                    "group.id": f"{self.settings.kafka.group_prefix}-console-{time.time_ns()}",
                    "enable.auto.commit": False,
                    "error_cb": on_error,
                    "reconnect.backoff.ms": 500,
                    "reconnect.backoff.max.ms": 5000,
                },
            ),
            logger=_QUIET,  # an unreachable broker is said once, on the page, not logged every reconnect
        )
        assigned, last_seen, last_probe = False, time.monotonic(), 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if not assigned or now - last_probe > _PROBE_S:
                    last_probe = now
                    partitions = self._partitions(consumer)
                    if partitions is None:
                        self._stop.wait(1.0)
                        continue
                    if not assigned:
                        consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
                        assigned, last_seen = True, time.monotonic()
                batch = [m for m in consumer.consume(1000, timeout=0.5) if m.error() is None]
                for m in batch:
                    self._apply(m.key(), m.value())
                if batch:
                    last_seen = time.monotonic()
                elif time.monotonic() - last_seen > _QUIET_S:
                    self._loaded.set()
        finally:
            consumer.close()

    def _partitions(self, consumer) -> list[int] | None:
        """The topic's partitions, clearing the problem; None (the problem set) when the broker or topic is not
        there."""
        try:
            meta = consumer.list_topics(self.topic, timeout=min(self.settings.console.figures_timeout_s, 5.0))
        except Exception:  # KafkaException: the broker did not answer in time
            self.problem = self._unreachable()
            return None
        t = meta.topics.get(self.topic)
        if t is None or t.error is not None or not t.partitions:
            self.problem = f"{self._where()}: the topic does not exist (run `touchpoint stack up` or create it)"
            return None
        self.problem = None
        return sorted(t.partitions)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        with self._lock:
            if value is None:
                if key is not None:
                    self._rows.pop(key.decode(errors="replace"), None)
                return
            try:
                record = json.loads(value)
                self._rows[str(record[self.field])] = record
            except (ValueError, KeyError, TypeError):
                pass  # not a definition: the jobs dead-letter it; the console shows what they use


class Live:
    """The followed topics of one console."""

    def __init__(self, settings: Settings):
        self.tables = {k: TopicTable(settings, k) for k in FOLLOWED}

    def start(self) -> Live:
        for t in self.tables.values():
            t.start()
        return self

    def stop(self) -> None:
        for t in self.tables.values():
            t._stop.set()
        for t in self.tables.values():
            t.stop()

    def problems(self) -> list[str]:
        return sorted({t.problem for t in self.tables.values() if t.problem})

    def __getitem__(self, key: str) -> TopicTable:
        return self.tables[key]
