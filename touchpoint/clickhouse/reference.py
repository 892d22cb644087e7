"""Reference data in ClickHouse: the ``regions`` and ``handsets`` tables, replaced from the reference CSVs
(read with the one reference-file reader, touchpoint.reference), so dashboards can join region names and handset
models."""

from __future__ import annotations

from pathlib import Path

from touchpoint.clickhouse.backends import Backend, ClickHouseError
from touchpoint.reference import COLUMNS, read_reference_csv

#: Tables replaced by :func:`load_reference`; each has the columns of its reference file.
TABLES = ("handsets", "regions")


def load_reference(backend: Backend, directory: Path) -> dict[str, int]:
    """Replace ``handsets`` and ``regions`` with ``DIR/handsets.csv`` and ``DIR/regions.csv``; table -> rows."""
    directory = Path(directory)
    loaded = {}
    for table in TABLES:
        path = directory / f"{table}.csv"
        if not path.is_file():
            raise ClickHouseError(f"reference file {path} not found")
        try:
            records = read_reference_csv(path, table)
        except ValueError as e:
            raise ClickHouseError(str(e)) from None
        columns = [c for c, _ in COLUMNS[table]]
        # booleans are UInt8 in ClickHouse
        rows = [tuple(int(v) if isinstance(v, bool) else v for v in (r[c] for c in columns)) for r in records]
        backend.execute(f"TRUNCATE TABLE {backend.database}.{table}")
        backend.insert(table, columns, rows)
        loaded[table] = len(rows)
    return loaded
