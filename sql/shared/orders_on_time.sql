-- Orders as xDRs in shared/xdr_on_time.sql: those later than the watermark are left out here (the triggers job's
-- orders_late.sql sends them to the DLQ); the rest continue with exact duplicates (same order_id) removed by a
-- window deduplication over 1 ms windows, whose state the watermark clears. Each order comes out once the
-- watermark has passed it, so a subscriber's orders come out in event-time order. Read by zero_usage, the journeys
-- job and the effect job.
CREATE TEMPORARY VIEW orders_on_time AS
SELECT order_id, ts, msisdn, product_id, product_kind, action, channel, lead_id, rowtime FROM orders_valid
WHERE CURRENT_WATERMARK(rowtime) IS NULL OR rowtime >= CURRENT_WATERMARK(rowtime);

-- The orders' pace (pace.sql) joins them without rows: the de-duplication follows the denser feeds' watermark too.
CREATE TEMPORARY VIEW orders_paced AS
SELECT * FROM orders_on_time
UNION ALL
SELECT CAST(NULL AS STRING), CAST(NULL AS BIGINT), CAST(NULL AS STRING), CAST(NULL AS STRING),
       CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), rowtime
FROM orders_pace;

CREATE TEMPORARY VIEW orders_unique AS
SELECT order_id, ts, msisdn, product_id, product_kind, action, channel, lead_id, window_time AS rowtime
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, order_id ORDER BY rowtime) AS copy
  FROM TABLE(TUMBLE(TABLE orders_paced, DESCRIPTOR(rowtime), INTERVAL '0.001' SECOND))
)
WHERE copy = 1;
