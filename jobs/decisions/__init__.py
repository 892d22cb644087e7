"""decisions: triggers ⋈ campaigns ⋈ profile ⋈ 48 h behaviour, under the contact policy -> leads + decisions.

Sources and sinks are SQL tables; the stateful rule path is two Python DataStream operators
(jobs/decisions/operators.py) around the pure rules in udfs/decisions.py. Triggers are low volume, so
Python is affordable here (docs/architecture.md, design rules).
"""

from pyflink.common import Types

from jobs.decisions.operators import (
    BROADCAST_REFERENCE,
    BROADCAST_STATE,
    OUT_TYPE,
    STAGE_TYPE,
    CampaignBudgets,
    SubscriberDecisions,
)
from jobs.ordered import Ordering
from touchpoint.flink.pipeline import Pipeline
from udfs.contact_policy import Policy

DESCRIPTION = (
    "triggers + journey steps + behaviour + profiles + campaigns, regions, handsets, variant counts, guardrail "
    "(broadcast) -> leads, decisions (bad input -> dlq)"
)
INPUTS = ("triggers", "journey_events", "behaviour", "campaigns")
#: the loop from the effect job: its variant counts (scope ``variant`` of ``uplift``), for adaptive selection, and
#: the campaigns its guardrail paused
FEEDBACK = ("uplift", "guardrail")
REFERENCE = ("profiles", *BROADCAST_REFERENCE)
OUTPUTS = ("leads", "decisions", "dlq")
DATASTREAM = True


def build(p: Pipeline) -> None:
    s = p.settings
    streaming = p.mode == "streaming"
    p.create_source("tables/triggers_in.sql", "triggers", table="triggers_in")
    p.create_source("tables/triggers_in.sql", "journey_events", optional=True, table="journey_events_in")
    p.create_source("tables/behaviour_in.sql", "behaviour")
    p.create_campaign_source("tables/campaigns_in.sql")
    # read whole on a fresh start, like the campaigns: a new job has no counts in its state yet
    for key in FEEDBACK:
        p.create_source("tables/lines_in.sql", key, optional=True, changelog=True, table=f"{key}_in")
    p.create_reference_lines("tables/profiles_in.sql", "profiles")
    for name in BROADCAST_REFERENCE:  # regions, handsets
        p.create_reference_lines("tables/reference_in.sql", name)
    p.create_sink("tables/leads.sql", "leads", fmt="raw")
    p.create_sink("tables/decisions.sql", "decisions", fmt="raw")
    p.create_sink("tables/dlq.sql", "dlq")
    p.execute("decisions/subscriber_inputs.sql")
    p.execute("decisions/broadcast_inputs.sql")

    t = p.t_env
    subscriber = SubscriberDecisions(
        Policy.from_settings(s.decisions),
        s.tags,
        max(s.flink.state_ttl_hours, s.decisions.contact_window_hours),
        Ordering.of_job(s, streaming),
        s.decisions.profile_wait_ms,
    )
    broadcast = t.to_data_stream(t.from_path("broadcast_inputs")).broadcast(*BROADCAST_STATE)
    decided = (
        t.to_data_stream(t.from_path("subscriber_inputs"))
        .key_by(lambda r: r[0] or "", key_type=Types.STRING())
        .connect(broadcast)
        .process(subscriber, output_type=STAGE_TYPE)
        .uid("subscriber-decisions")
        .name("subscriber-decisions")
        .key_by(lambda r: r[0], key_type=Types.STRING())
        .process(CampaignBudgets(s.decisions.timezone, streaming), output_type=OUT_TYPE)
        .uid("campaign-budgets")
        .name("campaign-budgets")
    )
    t.create_temporary_view("decided", t.from_data_stream(decided))
    p.execute("decisions/emit.sql")
