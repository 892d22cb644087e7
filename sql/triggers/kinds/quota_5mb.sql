-- quota_5mb: the xDR that takes the remaining data quota from above 5 MB to at or below it
-- (docs/triggers.md; running totals in xdr_usage.sql). remaining_bytes is after the xDR and may be negative.
CREATE TEMPORARY VIEW quota_5mb_found AS
SELECT msisdn, ts, JSON_OBJECT('threshold_mb' VALUE 5, 'remaining_bytes' VALUE remaining_bytes) AS context
FROM quota_usage
WHERE before_bytes > CAST(5 AS BIGINT) * 1048576 AND remaining_bytes <= CAST(5 AS BIGINT) * 1048576;
