"""effect: leads ⋈ delivery reports ⋈ orders -> each lead's conversion or expiry, and uplift per campaign.

The rules are udfs/effect.py (docs/effect.md). Leads, delivery reports and orders are low-volume streams, so the
stateful part is two Python DataStream operators (jobs/effect/operators.py): per subscriber, the open leads and
which order converts which (the product catalogue's families broadcast to every subtask); per group (campaign,
campaign × day, trigger kind, the whole programme), the treatment and control counts and the uplift with its
interval.
"""

from pyflink.common import Types

from jobs.effect.operators import COUNT_TYPE, FAMILIES, OUT_TYPE, LeadEffects, UpliftCounts
from jobs.ingest import event_time, on_time, read_raw
from jobs.ordered import Ordering
from touchpoint.flink.pipeline import Pipeline
from udfs.units import HOUR_MS

DESCRIPTION = (
    "leads + delivered outcomes + orders (event time) + products (broadcast) -> outcomes (converted, expired), uplift "
    "(bad input -> dlq)"
)
INPUTS = ("leads", "outcomes", "orders")
#: the product catalogue: an order of another product of the lead's family converts it too
REFERENCE = ("products",)
OUTPUTS = ("outcomes", "uplift", "guardrail", "dlq")
DATASTREAM = True


def build(p: Pipeline) -> None:
    s = p.settings
    streaming = p.mode == "streaming"
    p.create_source("tables/lines_in.sql", "leads", table="leads_in")
    p.create_source("tables/lines_in.sql", "outcomes", optional=True, table="outcomes_in")
    read_raw(p, "orders")
    p.create_reference_lines("tables/reference_in.sql", "products")
    p.create_sink("tables/lines_out.sql", "outcomes", fmt="raw", table="outcomes_out")
    # uplift keyed by group when streaming: the decision job, which reads the variant counts back, sees each
    # group's versions in order (a replay writes one file, in order)
    # (and the guardrail's pauses by campaign, the key of that topic)
    for key in ("uplift", "guardrail"):
        if streaming:
            p.create_sink("tables/keyed_lines_out.sql", key, fmt="raw", key_field="record_key", table=f"{key}_out")
        else:
            p.create_sink("tables/lines_out.sql", key, fmt="raw", table=f"{key}_out")
    p.create_sink("tables/dlq.sql", "dlq")
    on_time(p, "orders")
    p.execute("effect/inputs.sql")

    t = p.t_env
    # a replay's end: what its flush at the end of input would expire past the data stays open
    ends = {"leads": "deliver_at", "outcomes": "ts", "orders": event_time(s, "orders")}
    data_end = None if streaming else p.data_end(ends)
    products = t.to_data_stream(t.from_path("products_in")).broadcast(FAMILIES)
    effects = (
        t.to_data_stream(t.from_path("effect_inputs"))
        .key_by(lambda r: r[0] or "", key_type=Types.STRING())
        .connect(products)
        .process(LeadEffects(s.decisions.timezone, Ordering.of_job(s, streaming, data_end)), OUT_TYPE)
        .uid("lead-effects")
        .name("lead-effects")
    )
    counted = (
        effects.filter(lambda r: r[0] == "count")
        .map(lambda r: (r[1], r[2]), output_type=COUNT_TYPE)
        .key_by(lambda r: r[0], key_type=Types.STRING())
        .process(
            UpliftCounts(s.effect.min_sample, s.effect.guardrail, int(s.effect.guardrail_wait_hours * HOUR_MS)),
            OUT_TYPE,
        )
        .uid("uplift-counts")
        .name("uplift-counts")
    )
    t.create_temporary_view("effects", t.from_data_stream(effects.filter(lambda r: r[0] != "count").union(counted)))
    p.execute("effect/emit.sql", keyed_columns="detail, record" if streaming else "record")
