-- abnormal_usage: the xDR that takes the subscriber's bytes within one UTC clock hour to at least
-- ${abnormal_usage_bytes} (docs/triggers.md; running totals in xdr_usage.sql). The running total only grows,
-- so at most one xDR per subscriber-hour crosses it. bytes includes the firing xDR.
CREATE TEMPORARY VIEW abnormal_usage_found AS
SELECT msisdn, ts, JSON_OBJECT('hour_start' VALUE hour_start, 'bytes' VALUE hour_bytes) AS context
FROM hour_usage
WHERE hour_bytes >= ${abnormal_usage_bytes} AND hour_bytes - xdr_bytes < ${abnormal_usage_bytes};
