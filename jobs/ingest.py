"""ingest: parse and validate raw signaling and xDR; valid records to the normalised topics, the rest to the DLQ."""

from touchpoint.flink import Pipeline
from touchpoint.schemas import enum, sql_list

DESCRIPTION = "parse + validate signaling and xDR -> signaling-normalised, xdr-normalised, dlq"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("signaling_normalised", "xdr_normalised", "dlq")


def build(p: Pipeline) -> None:
    p.create_source("tables/signaling_raw.sql", "signaling")
    p.create_source("tables/xdr_raw.sql", "xdr")
    p.create_sink("tables/signaling_normalised.sql", "signaling_normalised", time_attributes="")
    p.create_sink("tables/xdr_normalised.sql", "xdr_normalised", time_attributes="")
    p.create_sink("tables/dlq.sql", "dlq")
    rules = {
        "event_types": sql_list(enum("signaling", "event_type")),
        "rats": sql_list(enum("signaling", "rat")),
        "ts_min_ms": p.settings.ingest.ts_min_ms,
        "ts_max_ms": p.settings.ingest.ts_max_ms,
    }
    p.execute("ingest/signaling_checked.sql", **rules)
    p.execute("ingest/xdr_checked.sql", **rules)
    p.execute("ingest/valid.sql")
    p.execute("ingest/dead_letters.sql")
