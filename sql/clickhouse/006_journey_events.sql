-- Trial journeys (docs/journeys.md, topic `journey-events`): one row per step a journey took (welcome,
-- usage_nudge, feedback, reminder; whether it became a lead is in `decisions`/`leads`) and one per trial's end
-- (kind journey_end: converted, or not_converted with its reason). The journey funnel of the campaigns
-- dashboard counts them. ReplacingMergeTree: a step or end delivered twice (at-least-once) is one row.
CREATE TABLE IF NOT EXISTS ${db}.journey_events
(
    event_id    String,
    msisdn      String,
    kind        String,                  -- journey_step, journey_end
    journey_id  String,
    step        String,                  -- welcome, usage_nudge, feedback, reminder; end
    order_id    String,                  -- the trial start order
    product_id  String,                  -- the product a conversion orders
    trial_start DateTime,
    trial_end   DateTime,
    usage_mb    Float64,                 -- the trial's usage of the service so far
    result      String,                  -- end: converted, not_converted
    reason      String,                  -- end, not converted: declined, not_contactable, no_usage, low_usage
    ts          DateTime,
    ts_ms       Int64,
    loaded_at   DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (journey_id, event_id)
${ttl(ts)};
