-- quota_<n>mb, one kind per triggers.quota_thresholds_mb (rendered once per threshold, as ${kind}): the xDR that
-- takes the remaining data quota from above ${threshold_mb} MB to at or below it (docs/triggers.md; running totals
-- in xdr_usage.sql). remaining_bytes is after the xDR and may be negative.
CREATE TEMPORARY VIEW ${kind}_found AS
SELECT msisdn, ts, JSON_OBJECT('threshold_mb' VALUE ${threshold_mb}, 'remaining_bytes' VALUE remaining_bytes) AS context
FROM quota_usage
WHERE before_bytes > CAST(${threshold_bytes} AS BIGINT) AND remaining_bytes <= CAST(${threshold_bytes} AS BIGINT);
