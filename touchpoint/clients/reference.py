"""``touchpoint reference publish DIR``: reference CSVs to their compacted topics, validated first, all or nothing.

Streaming jobs read cells, regions, handsets, number ranges and profiles from these topics as versioned tables
(upsert-kafka), so a region added or a consent revoked takes effect while they run; a replay reads the CSV files.
Each row becomes a JSON object of ``schemas/reference/<name>.schema.json`` keyed by its id
(:data:`touchpoint.reference.KEYS`); publishing a file again re-sends every row, which is harmless: the latest
row of an id wins. A row is removed by publishing a tombstone (``tombstones``), as Kafka's compaction expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from touchpoint.config import Settings
from touchpoint.reference import COLUMNS, KEYS, REFERENCE_NAMES, kafka_key, read_reference_csv
from touchpoint.schemas import errors


class ReferenceError(RuntimeError):
    """A reference file is missing, malformed or not published; the message is one line naming file and row."""


def encode(row: dict) -> bytes:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()


def rows(directory: Path, name: str, validate: bool = True) -> list[dict]:
    """The rows of ``DIR/<name>.csv``, typed and (``validate``) checked against the reference schema."""
    path = directory / f"{name}.csv"
    try:
        out = read_reference_csv(path, name)
    except ValueError as e:
        raise ReferenceError(f"reference: {' '.join(str(e).split())}") from None
    if not validate:
        return out
    seen: dict[object, int] = {}
    for line, row in enumerate(out, start=2):
        problems = errors(f"reference/{name}", row)
        if problems:
            raise ReferenceError(f"reference: {path}:{line}: {problems[0]}")
        key = row[KEYS[name]]
        if key in seen:  # which row would win would depend on the order compaction keeps
            raise ReferenceError(f"reference: {path}:{line}: {KEYS[name]}: duplicate {key!r}, also on line {seen[key]}")
        seen[key] = line
    return out


def records(directory: Path, validate: bool = True) -> Iterator[tuple[str, bytes, bytes]]:
    """``(topic key, Kafka key, value)`` for every row of every reference file in ``directory``, all validated
    first unless ``validate`` is false (files the simulator has just written)."""
    if not directory.is_dir():
        raise ReferenceError(f"reference: {directory}: not a directory")
    found = [n for n in REFERENCE_NAMES if (directory / f"{n}.csv").is_file()]
    if not found:
        raise ReferenceError(f"reference: {directory}: none of {', '.join(n + '.csv' for n in REFERENCE_NAMES)}")
    data = {n: rows(directory, n, validate) for n in found}
    for name, table in data.items():
        for row in table:
            yield name, kafka_key(name, row), encode(row)


def tombstones(name: str, ids: list[str]) -> list[tuple[str, bytes, bytes | None]]:
    """Records that remove rows by id (a null value); an integer id (cells) is given as its decimal text."""
    if name not in KEYS:
        raise ReferenceError(f"reference: unknown data set {name!r} (one of {', '.join(REFERENCE_NAMES)})")
    key = KEYS[name]
    typ = dict(COLUMNS[name])[key]
    try:
        parsed = [{key: typ(i)} for i in ids]
    except ValueError:
        raise ReferenceError(f"reference: {name}: {key} must be an integer") from None
    return [(name, kafka_key(name, row), None) for row in parsed]


def publish(settings: Settings, directory: Path, timeout_s: float = 60.0) -> dict[str, int]:
    """Validate every file of ``directory``, then produce all rows; returns rows published per topic."""
    return produce(settings, list(records(directory)), timeout_s)


def produce(settings: Settings, recs: list, timeout_s: float = 60.0) -> dict[str, int]:
    """Produce ``(topic key, key, value)`` records, all acknowledged or :class:`ReferenceError`; counts per topic."""
    from collections import Counter

    from touchpoint.clients.kafka_io import DeliveryError, deliver_all

    recs = [(getattr(settings.topics, name), key, value) for name, key, value in recs]
    try:
        deliver_all(settings.kafka, recs, "reference rows", timeout_s)
    except DeliveryError as e:
        raise ReferenceError(f"reference: {e}") from None
    return dict(Counter(topic for topic, _, _ in recs))
