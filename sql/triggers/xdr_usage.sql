-- Running data usage per subscriber, shared by quota_* and abnormal_usage (docs/triggers.md).
-- OVER windows are RANGE windows (equal rowtimes are peers); one subscriber never has two xDRs with the same ts.
--
-- quota_usage: for subscribers with data_quota_mb > 0, the remaining quota before and after each xDR in its
-- billing month (calendar month in ${timezone}); data_used_mb counts only in ${billing_month}, the profile
-- snapshot's month (triggers.billing_month).
CREATE TEMPORARY VIEW xdr_month_usage AS
SELECT msisdn, ts, rowtime, xdr_bytes, billing_month,
       SUM(xdr_bytes) OVER (PARTITION BY msisdn, billing_month ORDER BY rowtime
                            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS month_bytes
FROM (
  SELECT msisdn, ts, rowtime, bytes_up + bytes_down AS xdr_bytes,
         SUBSTRING(CONVERT_TZ(DATE_FORMAT(rowtime, 'yyyy-MM-dd HH:mm:ss'), 'UTC', '${timezone}') FROM 1 FOR 7)
           AS billing_month
  FROM xdr_unique
);

CREATE TEMPORARY VIEW quota_usage AS
SELECT msisdn, ts, rowtime,
       allowance - month_bytes + xdr_bytes AS before_bytes, allowance - month_bytes AS remaining_bytes
FROM (
  SELECT u.msisdn, u.ts, u.rowtime, u.xdr_bytes, u.month_bytes,
         (p.data_quota_mb - CASE WHEN u.billing_month = '${billing_month}' THEN p.data_used_mb ELSE 0 END)
           * ${mb} AS allowance
  FROM xdr_month_usage AS u
  JOIN profiles FOR SYSTEM_TIME AS OF u.rowtime AS p ON u.msisdn = p.msisdn
  WHERE p.data_quota_mb > 0
);

-- hour_usage: the subscriber's bytes within each UTC clock hour, up to and including each xDR. Kept per subscriber,
-- not per subscriber and hour: a key per hour stayed in state for flink.state_ttl_hours (~3 KB per subscriber).
-- total_bytes is the subscriber's running total; the hour's bytes are that minus hour_base, the running total
-- before the hour's first xDR. hour_base only grows, so a running MAX carries it through the hour.
CREATE TEMPORARY VIEW hour_usage AS
SELECT msisdn, ts, rowtime, xdr_bytes, hour_start,
       total_bytes - MAX(hour_base) OVER (PARTITION BY msisdn ORDER BY rowtime) AS hour_bytes
FROM (
  SELECT *,
         CASE WHEN previous_hour IS NULL OR previous_hour <> hour_start THEN total_bytes - xdr_bytes END AS hour_base
  FROM (
    SELECT msisdn, ts, rowtime, xdr_bytes, hour_start,
           SUM(xdr_bytes) OVER w AS total_bytes, LAG(hour_start) OVER w AS previous_hour
    FROM (
      SELECT msisdn, ts, rowtime, bytes_up + bytes_down AS xdr_bytes, ts / ${hour_ms} * ${hour_ms} AS hour_start
      FROM xdr_unique
    )
    WINDOW w AS (PARTITION BY msisdn ORDER BY rowtime)
  )
);
