"""Reference data files (``reference/*.csv``): column types, reading and writing, lookup tables.

Every reference file is a CSV with a header. Booleans are ``true``/``false``, lists are ``;``-separated,
an empty cell is null (or an empty list). :func:`read_reference_csv` turns a file into one dict per row with
those types, exactly the objects described by ``schemas/reference/<name>.schema.json``.

On Kafka (``touchpoint reference publish``) each row is a JSON object of that schema on the reference data's
compacted topic, keyed by its id (:data:`KEYS`) the way Kafka's own serializers write one: a string id as UTF-8,
an integer id as 8 bytes big-endian (``LongSerializer``), which is also what Flink's ``raw`` key format reads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Columns of each reference file, in file order, with their type.
COLUMNS: dict[str, list[tuple[str, type]]] = {
    "cells": [("cell_id", int), ("lac", int), ("lat", float), ("lon", float), ("rat", str), ("region_id", str)],
    "regions": [("region_id", str), ("name", str), ("kind", str), ("watched", bool), ("lat", float), ("lon", float)],
    "handsets": [("tac", str), ("brand", str), ("model", str), ("tier", str), ("g3_capable", bool)],
    "profiles": [
        ("msisdn", str),
        ("imsi", str),
        ("brand", str),
        ("plan", str),
        ("data_quota_mb", int),
        ("data_used_mb", int),
        ("arpu_band", str),
        ("age_band", str),
        ("consent_marketing", bool),
        ("consent_location", bool),
        ("do_not_disturb", bool),
        ("products", list),
    ],
    "number_ranges": [("prefix", str), ("province", str)],
    "products": [("product_id", str), ("name", str), ("kind", str), ("family", str)],
}

#: Columns that may be empty (null).
NULLABLE: dict[str, set[str]] = {"cells": {"region_id"}}

REFERENCE_NAMES = tuple(COLUMNS)

#: The id of each reference data set: its Kafka key and its Flink tables' primary key (sql/tables/<name>.sql).
KEYS: dict[str, str] = {
    "cells": "cell_id",
    "regions": "region_id",
    "handsets": "tac",
    "profiles": "msisdn",
    "number_ranges": "prefix",
    "products": "product_id",
}


def kafka_key(name: str, row: dict[str, Any]) -> bytes:
    """The Kafka key of a reference row: its id as Kafka's String- or LongSerializer writes it."""
    value = row[KEYS[name]]
    return value.to_bytes(8, "big", signed=True) if isinstance(value, int) else str(value).encode()


def _to_bool(s: str) -> bool:
    if s == "true":
        return True
    if s == "false":
        return False
    raise ValueError(f"not a boolean (true/false): {s!r}")


def _converter(typ: type, nullable: bool) -> Callable[[str], Any]:
    if typ is list:
        return lambda s: [x for x in s.split(";") if x] if s else []
    base: Callable[[str], Any] = _to_bool if typ is bool else typ  # type: ignore[assignment]
    if nullable:
        return lambda s: None if s == "" else base(s)
    return base


def read_reference_csv(path: str | Path, name: str | None = None) -> list[dict[str, Any]]:
    """Read one reference CSV into a list of dicts with typed values.

    ``name`` (cells, regions, handsets, profiles, number_ranges) defaults to the file's stem. Ints become ``int``,
    ``true``/``false`` become ``bool``, ``;``-lists become lists, empty nullable cells become ``None``. A file
    with an unknown name is read with every value a string (empty → ``None``).
    """
    path = Path(path)
    name = name or path.stem
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if name not in COLUMNS:
            return [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]
        cols = COLUMNS[name]
        expected = [c for c, _ in cols]
        if reader.fieldnames != expected:
            raise ValueError(f"{path}: columns {reader.fieldnames} != expected {expected}")
        convs = [(c, _converter(t, c in NULLABLE.get(name, set()))) for c, t in cols]
        out = []
        for lineno, row in enumerate(reader, start=2):
            try:
                out.append({c: conv(row[c]) for c, conv in convs})
            except (ValueError, TypeError) as e:
                raise ValueError(f"{path}:{lineno}: {e}") from None
        return out


def format_value(v: Any) -> str:
    """One CSV cell: booleans as true/false, lists ;-joined, None empty, floats as given."""
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    return str(v)


class ReferenceWriter:
    """Writes one reference CSV row by row (header first, ``\\n`` line ends)."""

    def __init__(self, path: Path, name: str):
        self.name = name
        self.columns = [c for c, _ in COLUMNS[name]]
        self._f = path.open("w", newline="", encoding="utf-8")
        self._w = csv.writer(self._f, lineterminator="\n")
        self._w.writerow(self.columns)
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self._w.writerow([format_value(row[c]) for c in self.columns])
        self.rows += 1

    def write_all(self, rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            self.write(r)

    def close(self) -> None:
        self._f.close()


def write_reference_csv(path: Path, name: str, rows: Iterable[dict[str, Any]]) -> int:
    w = ReferenceWriter(path, name)
    w.write_all(rows)
    w.close()
    return w.rows


def rows_to_csv_text(name: str, rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = [c for c, _ in COLUMNS[name]]
    w.writerow(cols)
    for r in rows:
        w.writerow([format_value(r[c]) for c in cols])
    return buf.getvalue()
