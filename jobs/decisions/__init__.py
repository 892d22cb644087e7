"""decisions: triggers ⋈ campaigns ⋈ profile ⋈ 48 h behaviour, under the contact policy -> leads + decisions.

Sources and sinks are SQL tables; the stateful rule path is two Python DataStream operators
(jobs/decisions/operators.py) around the pure rules in udfs/decisions.py. Triggers are low volume, so
Python is affordable here (docs/architecture.md, design rules).
"""

from pyflink.common import Types

from jobs.decisions.operators import CAMPAIGNS, OUT_TYPE, STAGE_TYPE, CampaignBudgets, SubscriberDecisions
from touchpoint.flink.pipeline import Pipeline
from udfs.contact_policy import Policy
from udfs.decisions import Reference

DESCRIPTION = "triggers + behaviour + profiles + campaigns (broadcast) -> leads, decisions (bad input -> dlq)"
INPUTS = ("triggers", "behaviour", "campaigns", "profiles")
OUTPUTS = ("leads", "decisions", "dlq")
DATASTREAM = True


def build(p: Pipeline) -> None:
    s = p.settings
    streaming = p.mode == "streaming"
    p.create_source("tables/triggers_in.sql", "triggers")
    p.create_source("tables/behaviour_in.sql", "behaviour")
    p.create_campaign_source("tables/campaigns_in.sql")
    p.create_source("tables/profile_updates.sql", "profiles", optional=True)
    p.create_reference("tables/profiles.sql", "profiles")
    p.create_sink("tables/leads.sql", "leads", fmt="raw")
    p.create_sink("tables/decisions.sql", "decisions", fmt="raw")
    p.create_sink("tables/dlq.sql", "dlq")
    p.execute("decisions/subscriber_inputs.sql")

    t = p.t_env
    reference = Reference(
        handsets={r["tac"]: r for r in p.read_reference("handsets")},
        regions={r["region_id"]: r for r in p.read_reference("regions")},
    )
    subscriber = SubscriberDecisions(
        Policy.from_settings(s.decisions),
        reference,
        s.tags,
        max(s.flink.state_ttl_hours, s.decisions.contact_window_hours),
        s.decisions.reorder_ms if streaming else None,
    )
    campaigns = t.to_data_stream(t.from_path("campaigns_in")).broadcast(CAMPAIGNS)
    decided = (
        t.to_data_stream(t.from_path("subscriber_inputs"))
        .key_by(lambda r: r[0] or "", key_type=Types.STRING())
        .connect(campaigns)
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
