-- Touchpoint tables in ClickHouse: one table per loaded topic (touchpoint/clickhouse/loader.py converts each JSON record to
-- a row) plus the loader's own progress. Contract for the dashboards: docs/clickhouse.md.
--
-- Rules (docs/clickhouse.md):
--   * every time column is DateTime (UTC seconds; 18.16 has no DateTime64); original milliseconds in *_ms Int64;
--   * a record with a deterministic id lands in a ReplacingMergeTree whose sorting key holds that id, and whose
--     PARTITION BY and ORDER BY use record fields only (never a wall-clock field such as created_at), so a
--     redelivered or re-produced record replaces its twin: query with FINAL or count(DISTINCT id);
--   * partitions are by month (toYYYYMM) or day (toYYYYMMDD) of the retention column, so `touchpoint db prune`
--     can drop whole partitions where the server has no TTL;
--   * ${db} is clickhouse.database; ${ttl(col)} renders to `TTL col + INTERVAL <retention_days> DAY` where the
--     server supports TTL (chdb, ClickHouse >= 19.6) and to nothing on older servers (Debian's 18.16);
--     ${ttl(col, N)} caps the retention at N days. Lines between `-- @if FEATURE` and `-- @endif` are kept
--     only where the server has FEATURE (touchpoint/clickhouse.py: FEATURES).
-- Statements are idempotent (IF NOT EXISTS), so a migration interrupted half-way can simply be run again.

CREATE TABLE IF NOT EXISTS ${db}.triggers
(
    trigger_id     String,
    msisdn         String,
    kind           String,
    ts             DateTime,
    ts_ms          Int64,
    detected_at    DateTime,
    detected_at_ms Int64,
    context        String,                       -- the context object as compact JSON (sorted keys)
    loaded_at      DateTime DEFAULT now()
-- @if skip_indexes
    , INDEX msisdn_bf msisdn TYPE bloom_filter GRANULARITY 4
-- @endif
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (kind, ts, trigger_id)
${ttl(ts)};

CREATE TABLE IF NOT EXISTS ${db}.leads
(
    lead_id       String,
    msisdn        String,
    campaign_id   String,
    offer_id      String,
    channel       String,
    channels      Array(String),
    message       String,
    trigger_id    String,
    trigger_kind  String,
    trigger_ts    DateTime,
    trigger_ts_ms Int64,
    created_at    DateTime,
    created_at_ms Int64,
    deliver_at    DateTime,
    expires_at    DateTime,
    control       UInt8,
    reasons       Array(String),
    loaded_at     DateTime DEFAULT now()
-- @if skip_indexes
    , INDEX msisdn_bf msisdn TYPE bloom_filter GRANULARITY 4
-- @endif
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(trigger_ts)
ORDER BY (campaign_id, lead_id)
${ttl(trigger_ts)};

CREATE TABLE IF NOT EXISTS ${db}.decisions
(
    decision_id    String,
    trigger_id     String,
    trigger_kind   String,
    msisdn         String,
    campaign_id    String,
    trigger_ts     DateTime,
    decided_at     DateTime,
    decided_at_ms  Int64,
    result         String,
    reason         String,                       -- '' when absent
    detail         String,                       -- '' when absent
    lead_id        String,                       -- '' when absent
    deliver_at     DateTime,                     -- 0 (1970-01-01) when absent
    loaded_at      DateTime DEFAULT now()
-- @if skip_indexes
    , INDEX msisdn_bf msisdn TYPE bloom_filter GRANULARITY 4
-- @endif
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(trigger_ts)
ORDER BY (campaign_id, decision_id)
${ttl(trigger_ts)};

CREATE TABLE IF NOT EXISTS ${db}.behaviour
(
    msisdn         String,
    hour_start     DateTime,
    calls_mo       UInt64,
    calls_mt       UInt64,
    call_seconds   UInt64,
    sms            UInt64,
    bytes_up       UInt64,
    bytes_down     UInt64,
    g3_bytes       UInt64,
    hotline_dials  UInt64,
    distinct_cells UInt64,
    g3_data_share  Nullable(Float64),
    regions        Array(String),
    roaming        UInt8,
    last_imei      String,                       -- '' when the hour had no IMEI
    last_tac       String,
    loaded_at      DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(hour_start)
ORDER BY (msisdn, hour_start)
${ttl(hour_start)};

CREATE TABLE IF NOT EXISTS ${db}.region_metrics
(
    region_id      String,
    region_name    String,
    region_kind    String,
    lat            Float64,
    lon            Float64,
    window_start   DateTime,
    window_end     DateTime,
    subscribers    UInt64,
    g3_subscribers UInt64,
    g3_capable     UInt64,
    opportunities  UInt64,
    g3_coverage    Float64,
    g3_data_share  Nullable(Float64),
    product_names  Array(String),                -- products {name: count} as parallel arrays, sorted by name
    product_counts Array(UInt64),
    loaded_at      DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (region_id, window_start)
${ttl(window_start)};

CREATE TABLE IF NOT EXISTS ${db}.outcomes
(
    outcome_id  String,
    lead_id     String,
    trigger_id  String,
    msisdn      String,
    campaign_id String,
    status      String,
    reason      String,
    ts          DateTime,
    ts_ms       Int64,
    order_id    String,
    loaded_at   DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (campaign_id, outcome_id)
${ttl(ts)};

CREATE TABLE IF NOT EXISTS ${db}.orders
(
    order_id     String,
    msisdn       String,
    product_id   String,
    product_kind String,
    action       String,
    channel      String,
    lead_id      String,
    ts           DateTime,
    ts_ms        Int64,
    loaded_at    DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (msisdn, order_id)
${ttl(ts)};

-- Dead letters have no id: dlq_id is a hash of the Kafka record's bytes, so the same record loaded twice (or
-- produced twice) collapses. ts is the record's ts when it has a plausible one (ingest.ts_min..ts_max), else
-- the Kafka timestamp (when it was dead-lettered); event_ts_ms keeps the record's own ts (NULL when absent).
CREATE TABLE IF NOT EXISTS ${db}.dlq
(
    source      String,
    reason      String,
    detail      String,
    event_id    String,
    ts          DateTime,
    event_ts_ms Nullable(Int64),
    raw         String,
    dlq_id      String,
    loaded_at   DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (source, reason, dlq_id)
${ttl(ts, 14)};

CREATE TABLE IF NOT EXISTS ${db}.traffic
(
    window_start DateTime,
    window_end   DateTime,
    source       String,
    event_type   String,
    events       UInt64,
    loaded_at    DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (source, event_type, window_start)
${ttl(window_start)};

-- One row per (topic, partition) after each offset commit of `touchpoint load`: where the loader is and how far
-- behind. end_offset is the broker's high watermark as last seen by the consumer (-1 when unknown); Tansu's
-- is known to lag what was written, so lag is a lower bound there.
CREATE TABLE IF NOT EXISTS ${db}.loader_progress
(
    ts         DateTime,
    topic      String,
    partition  UInt32,
    committed  Int64,
    end_offset Int64,
    lag        Int64,
    rows       UInt64,
    group_id   String
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (topic, partition, ts)
${ttl(ts, 7)};
