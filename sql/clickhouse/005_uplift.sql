-- Uplift per group of leads, from the effect job (docs/effect.md, topic `uplift`): every change of a group is a
-- record, the one with the largest version is the group's current value. ReplacingMergeTree(version) keeps
-- that one per uplift_id; query with FINAL (or argMax(..., version)). No PARTITION BY: a campaign's group lives
-- as long as the campaign, and a replacing merge only ever looks within one partition.
CREATE TABLE IF NOT EXISTS ${db}.uplift
(
    uplift_id           String,                  -- scope|campaign_id|trigger_kind|day
    scope               String,                  -- campaign, campaign_day, trigger_kind, programme
    campaign_id         String,
    trigger_kind        String,
    day                 String,                  -- local day of delivery (decisions.timezone), YYYY-MM-DD
    treatment_leads     UInt64,
    treatment_converted UInt64,
    control_leads       UInt64,
    control_converted   UInt64,
    treatment_rate      Nullable(Float64),
    control_rate        Nullable(Float64),
    uplift              Nullable(Float64),       -- null: not enough data (effect.min_sample)
    relative_uplift     Nullable(Float64),
    ci_low              Nullable(Float64),       -- 95 % interval of uplift
    ci_high             Nullable(Float64),
    enough_data         UInt8,
    version             UInt64,
    ts                  DateTime,
    ts_ms               Int64,
    loaded_at           DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (scope, uplift_id)
${ttl(ts)};
