"""ingest: parse and validate raw signaling and xDR; valid records to the normalised topics, the rest to the DLQ."""

from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import enum
from udfs.ingest_rules import IngestRules

DESCRIPTION = "parse + validate signaling and xDR -> signaling-normalised, xdr-normalised, dlq"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("signaling_normalised", "xdr_normalised", "dlq")

_CHECKED = "reason STRING, detail STRING, `raw` STRING"
# All integers cross the Python boundary as BIGINT: thread mode fails on a null INT inside a ROW.
SIGNALING_ROW = (
    "ROW<event_id STRING, event_type STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING, "
    "lac BIGINT, cell_id BIGINT, rat STRING, vlr_plmn STRING, called_number STRING, calling_number STRING, "
    f"duration_s BIGINT, forward_to STRING, {_CHECKED}>"
)
XDR_ROW = (
    "ROW<event_id STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING, lac BIGINT, cell_id BIGINT, "
    "rat STRING, apn STRING, app STRING, bytes_up BIGINT, bytes_down BIGINT, duration_s BIGINT, "
    f"{_CHECKED}>"
)


def build(p: Pipeline) -> None:
    p.create_source("tables/signaling_raw.sql", "signaling")
    p.create_source("tables/xdr_raw.sql", "xdr")
    p.create_sink("tables/signaling_normalised.sql", "signaling_normalised", time_attributes="")
    p.create_sink("tables/xdr_normalised.sql", "xdr_normalised", time_attributes="")
    p.create_sink("tables/dlq.sql", "dlq")
    rules = IngestRules(
        ts_min_ms=p.settings.ingest.ts_min_ms,
        ts_max_ms=p.settings.ingest.ts_max_ms,
        event_types=frozenset(enum("signaling", "event_type")),
        rats=frozenset(enum("signaling", "rat")),
    )
    p.register_row_function("check_signaling", rules.check_signaling, SIGNALING_ROW)
    p.register_row_function("check_xdr", rules.check_xdr, XDR_ROW)
    p.execute("ingest/signaling_checked.sql")
    p.execute("ingest/xdr_checked.sql")
    p.execute("ingest/valid.sql")
    p.execute("ingest/dead_letters.sql")
