-- One row per subscriber and event-time clock hour (1-hour tumbling windows, aligned to the epoch = UTC hours)
-- that had any event; emitted once the watermark passes the end of the hour.
CREATE TEMPORARY VIEW behaviour_hourly AS
SELECT msisdn, window_start,
       SUM(calls_mo) AS calls_mo,
       SUM(calls_mt) AS calls_mt,
       SUM(call_seconds) AS call_seconds,
       SUM(sms) AS sms,
       SUM(bytes_up) AS bytes_up,
       SUM(bytes_down) AS bytes_down,
       SUM(g3_bytes) AS g3_bytes,
       SUM(hotline_dials) AS hotline_dials,
       COUNT(DISTINCT cell_id) AS distinct_cells,
       ARRAY_AGG(DISTINCT region_id IGNORE NULLS) AS regions,
       SUM(roaming) > 0 AS roaming,
       MAX(imei_key) AS imei_key
FROM TABLE(TUMBLE(TABLE located_contributions, DESCRIPTOR(rowtime), INTERVAL '1' HOUR))
GROUP BY window_start, window_end, msisdn;
