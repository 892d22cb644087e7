-- Dead letters per minute, source and reason, maintained by a materialized view on `dlq`.
-- records counts rows as inserted (a redelivered dead letter counts again); distinct_records is exact under
-- redelivery: uniqExactMerge(distinct_records) ... GROUP BY minute, source, reason.
CREATE TABLE IF NOT EXISTS ${db}.dlq_counts
(
    minute           DateTime,
    source           String,
    reason           String,
    records          UInt64,
    distinct_records AggregateFunction(uniqExact, String)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (source, reason, minute)
${ttl(minute, 14)};

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.dlq_counts_mv TO ${db}.dlq_counts AS
SELECT
    toStartOfMinute(ts) AS minute,
    source,
    reason,
    count() AS records,
    uniqExactState(dlq_id) AS distinct_records
FROM ${db}.dlq
GROUP BY minute, source, reason;
