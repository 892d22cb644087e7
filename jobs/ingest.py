"""ingest: parse and validate raw signaling, xDRs and orders; valid records to the normalised topics, the rest to
the DLQ.

The rules are those of udfs/ingest_rules.py, run on the JVM (jvm/src/touchpoint/ingest): each line is parsed once,
inside Flink, with no Python on the path of an event (docs/performance.md).

:func:`read_raw` is also how every job that needs event time reads its events: from the raw topics, checked by the
same rules, with event time from the raw partitions. A Kafka hop would lose it: a normalised partition interleaves
records of several raw partitions in the order ingest happened to read them, which says nothing of their event
time (docs/operations.md). So the normalised topics are an output for other consumers, never an input.
"""

from collections.abc import Callable

from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import enum
from udfs import ingest_rules

DESCRIPTION = "parse + validate signaling, xDR and orders -> signaling-, xdr-, orders-normalised, dlq"
#: the raw topics, each read by a table of the same name in sql/tables/<key>_raw.sql
RAW = ("signaling", "xdr", "orders")
INPUTS = RAW
OUTPUTS = ("signaling_normalised", "xdr_normalised", "orders_normalised", "dlq")


def parameters(settings: Settings) -> dict[str, object]:
    """The rules' bounds and vocabularies (settings and JSON schemas), as the functions' constant arguments."""
    return {
        "ts_min_ms": settings.ingest.ts_min_ms,
        "ts_max_ms": settings.ingest.ts_max_ms,
        "event_types": ",".join(enum("signaling", "event_type")),
        "rats": ",".join(enum("signaling", "rat")),
        "actions": ",".join(enum("orders", "action")),
        "product_kinds": ",".join(enum("orders", "product_kind")),
    }


def rules(settings: Settings) -> ingest_rules.IngestRules:
    """The rules with the same bounds and vocabularies as the JVM functions get (:func:`parameters`)."""
    p = parameters(settings)
    return ingest_rules.IngestRules(
        p["ts_min_ms"],
        p["ts_max_ms"],
        *(frozenset(p[k].split(",")) for k in ("event_types", "rats", "actions", "product_kinds")),
    )


def event_time(settings: Settings, key: str) -> Callable[[bytes], int | None]:
    """The event time of a raw ``key`` line, in Python: what sql/tables/<key>_raw.sql takes on the JVM (for a
    replay's end, Pipeline.data_end)."""
    check, fields = getattr(rules(settings), f"check_{key}"), ingest_rules.FIELDS[key]
    return lambda line: ingest_rules.event_time(check(line), fields)


#: The feeds, each with the denser ones: a sparse feed's de-duplication also follows their watermark
#: (sql/shared/pace.sql), a dense one never waits for a sparse one.
DENSER = {"signaling": (), "xdr": ("signaling",), "orders": ("signaling", "xdr")}


def on_time(p: Pipeline, key: str) -> None:
    """The on-time, de-duplicated view ``<key>_unique`` of raw feed ``key`` (sql/shared/<key>_on_time.sql), paced
    by the denser feeds the job reads (after :func:`read_raw`)."""
    if DENSER[key]:
        views = set(p.t_env.list_temporary_views())
        clocks = [k for k in (key, *DENSER[key]) if f"{k}_clock" in views]
        p.execute(
            "shared/pace.sql", feed=key, clocks=" UNION ALL ".join(f"SELECT rowtime FROM {k}_clock" for k in clocks)
        )
    p.execute(f"shared/{key}_on_time.sql")


def read_raw(p: Pipeline, *keys: str) -> None:
    """The raw topics ``keys`` with event time (sql/tables/<key>_raw.sql), checked by the ingest rules: the views
    ``<key>_checked`` (every line: typed fields, reason, detail) and ``<key>_valid`` (the valid events, typed, with
    ``rowtime``). Defined once in a job however many of its parts ask (touchpoint.flink.pipeline.Pipeline.execute)."""
    params = parameters(p.settings)
    p.execute("ingest/functions.sql")
    for key in keys:
        # a replay may have no orders
        p.create_event_source(f"tables/{key}_raw.sql", key, optional=key == "orders", **params)
        p.execute(f"ingest/{key}_checked.sql", **params)


def build(p: Pipeline) -> None:
    read_raw(p, *RAW)
    # keyed by msisdn: a subscriber's records stay in one partition, whatever the partition count
    for name in ("signaling_normalised", "xdr_normalised", "orders_normalised"):
        p.create_sink(f"tables/{name}.sql", name, key_field="msisdn", time_attributes="")
    p.create_sink("tables/dlq.sql", "dlq")
    p.execute("ingest/valid.sql")
    p.execute("ingest/dead_letters.sql")
