"""journeys: trial starts ⋈ journey definitions, orders and hourly app usage -> each trial journey's steps and end.

The rules are udfs/journeys.py (docs/journeys.md). The volume is cut in SQL first — xDRs become one row per
subscriber, app and clock hour (sql/journeys/usage.sql), trial starts are joined with the journey in force for
their product and the subscriber's profile, and only the hours of a trial's app of subscribers in a trial go on
(sql/journeys/inputs.sql) — so the stateful part, one Python operator keyed by msisdn
(jobs/journeys/operators.py), sees trial starts, orders and trials' hourly usage only. Steps come out
as ``journey_step`` triggers on ``journey-events``, which the decision job decides under the contact policy.
"""

from pyflink.common import Types

from jobs.ingest import event_time, on_time, read_raw
from jobs.journeys.operators import OUT_TYPE, TrialJourneys
from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from udfs.units import HOUR_MS

DESCRIPTION = "orders (trial starts, orders) + xDRs (hourly app usage) + journeys -> journey-events"
INPUTS = ("orders", "xdr", "journeys")
REFERENCE = ("profiles",)
OUTPUTS = ("journey_events", "dlq")
DATASTREAM = True


def parameters(settings: Settings) -> dict[str, object]:
    """Values for the ${placeholders} of sql/journeys/: how long the usage join keeps each side (journeys.*)."""
    j = settings.journeys
    return {
        "hour_ms": HOUR_MS,
        "trial_keep": f"{round(j.max_trial_days * 24 * 60)} min",
        "usage_wait": f"{round(j.usage_wait_minutes)} min",
    }


def build(p: Pipeline) -> None:
    read_raw(p, "orders", "xdr")
    p.create_journey_source("tables/journeys.sql")
    p.create_reference("tables/profiles.sql", "profiles")
    p.create_sink("tables/lines_out.sql", "journey_events", fmt="raw", table="journey_events_out")
    p.create_sink("tables/dlq.sql", "dlq")
    on_time(p, "orders")
    on_time(p, "xdr")
    params = parameters(p.settings)
    p.execute("journeys/usage.sql", **params)
    p.execute("journeys/inputs.sql", **params)

    t = p.t_env
    # a replay's end: what its flush at the end of input would fire past the data is dropped
    raw = ("orders", "xdr")
    data_end = None if p.mode == "streaming" else p.data_end({k: event_time(p.settings, k) for k in raw})
    events = (
        t.to_data_stream(t.from_path("journey_inputs"))
        .key_by(lambda r: r[0] or "", key_type=Types.STRING())
        .process(TrialJourneys(data_end, round(p.settings.journeys.max_trial_days * 24 * HOUR_MS)), OUT_TYPE)
        .uid("trial-journeys")
        .name("trial-journeys")
    )
    t.create_temporary_view("journey_events", t.from_data_stream(events))
    p.execute("journeys/emit.sql")
