"""Helpers of the Kafka client tests: the installed command with extra environment, fresh topics, reading a
topic back."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

from tests.support import TOUCHPOINT
from touchpoint.infra import stack


def run(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TOUCHPOINT, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def fresh_topic(broker: str, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    stack.create_topics(broker, [name], 1)
    return name


def read_back(broker: str, topic: str, idle_s: float = 2.0) -> list[tuple[bytes | None, bytes]]:
    """(key, value) of every record on a one-partition topic, read until it has been quiet for ``idle_s``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker, group_id=None, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    out, last = [], time.monotonic()
    while time.monotonic() - last < idle_s:
        for records in consumer.poll(timeout_ms=200).values():
            out += [(r.key, r.value) for r in records]
            last = time.monotonic()
    consumer.close()
    return out
