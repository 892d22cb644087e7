-- The guardrail (docs/effect.md, topic `guardrail`): every pause of a campaign by the effect job and every resume
-- by a marketer. The topic is compacted to each campaign's latest record; this table keeps the history, so the
-- dashboard and the report can say when and why. A campaign's state is its latest row: argMax(state, ts_ms).
-- ReplacingMergeTree: a record delivered twice is one row. No TTL: a pause stays true however old it is.
CREATE TABLE IF NOT EXISTS ${db}.guardrail
(
    campaign_id    String,
    state          String,                  -- paused, active (resumed)
    by             String,                  -- guardrail, or who resumed it
    reason         String,                  -- the guardrail's reason, or the marketer's note
    uplift         Nullable(Float64),       -- a pause: the uplift and the 99 % interval that tripped it
    ci_low         Nullable(Float64),
    ci_high        Nullable(Float64),
    uplift_version UInt64,                  -- a pause: the version of the uplift record that tripped it
    ts             DateTime,
    ts_ms          Int64,
    loaded_at      DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (campaign_id, ts_ms, state);
