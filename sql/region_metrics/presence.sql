-- Level 1: one row per (micro-region, window, subscriber present), in event-time tumbling windows of
-- region_metrics.window_minutes aligned to the epoch (UTC); an event at exactly a window's end belongs to the
-- next window. Emitted when the watermark passes the window's end.
-- imei_key: the subscriber's latest IMEI seen in this window *in this region* (see sql/shared/contributions.sql).
-- window_time is renamed rowtime: it stays the event-time attribute for the joins and the second level.
CREATE TEMPORARY VIEW region_presence AS
SELECT window_time AS rowtime, region_id, msisdn,
       SUM(xdr_bytes) AS xdr_bytes,
       SUM(g3_bytes) AS g3_bytes,
       MAX(imei_key) AS imei_key
FROM TABLE(TUMBLE(TABLE region_located, DESCRIPTOR(rowtime), INTERVAL '${window_minutes}' MINUTE))
GROUP BY window_start, window_end, window_time, region_id, msisdn;
