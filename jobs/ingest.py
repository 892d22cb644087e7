"""ingest: parse and validate raw signaling, xDRs and orders; valid records to the normalised topics, the rest to
the DLQ.

The rules are those of udfs/ingest_rules.py, run on the JVM (jvm/src/touchpoint/ingest): each line is parsed once,
inside Flink, with no Python on the path of an event (docs/performance.md).
"""

from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import enum

DESCRIPTION = "parse + validate signaling, xDR and orders -> signaling-, xdr-, orders-normalised, dlq"
INPUTS = ("signaling", "xdr", "orders")
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


def build(p: Pipeline) -> None:
    p.create_source("tables/signaling_raw.sql", "signaling")
    p.create_source("tables/xdr_raw.sql", "xdr")
    p.create_source("tables/orders_raw.sql", "orders", optional=True)  # a replay may have no orders
    # keyed by msisdn: a subscriber's events stay in one partition, in order, whatever the partition count
    for name in ("signaling_normalised", "xdr_normalised", "orders_normalised"):
        p.create_sink(f"tables/{name}.sql", name, key_field="msisdn", time_attributes="")
    p.create_sink("tables/dlq.sql", "dlq")
    params = parameters(p.settings)
    p.execute("ingest/functions.sql")
    p.execute("ingest/signaling_checked.sql", **params)
    p.execute("ingest/xdr_checked.sql", **params)
    p.execute("ingest/orders_checked.sql", **params)
    p.execute("ingest/valid.sql")
    p.execute("ingest/dead_letters.sql")
