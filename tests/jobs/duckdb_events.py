"""The normalised events ingest wrote, loaded into DuckDB for the jobs' independent recomputations (no Flink, none
of the jobs' SQL): table ``s`` (signaling) and ``x`` (xDRs), exact duplicates counted once."""

from __future__ import annotations

from pathlib import Path

XDR_COLUMNS = dict(
    event_id="VARCHAR",
    ts="BIGINT",
    msisdn="VARCHAR",
    imei="VARCHAR",
    cell_id="BIGINT",
    rat="VARCHAR",
    bytes_up="BIGINT",
    bytes_down="BIGINT",
)


def unique_events(out: Path, signaling_columns: dict[str, str]):
    """A DuckDB connection holding ``s`` (the ``signaling_columns`` of signaling-normalised.jsonl) and ``x``
    (xdr-normalised.jsonl), each exact duplicate (same event_id, same content) once."""
    import duckdb

    def read(name, cols):
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in cols.items()) + "}"
        return f"SELECT DISTINCT * FROM read_json('{out / name}', format='newline_delimited', columns={spec})"

    con = duckdb.connect()
    con.execute(f"CREATE TABLE s AS {read('signaling-normalised.jsonl', signaling_columns)}")
    con.execute(f"CREATE TABLE x AS {read('xdr-normalised.jsonl', XDR_COLUMNS)}")
    for t in ("s", "x"):  # distinct rows are distinct events
        assert con.execute(f"SELECT count(*) = count(DISTINCT event_id) FROM {t}").fetchone()[0]
    return con
