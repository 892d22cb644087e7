-- xDRs as signaling in signaling_on_time.sql: events later than the watermark are left out here (the triggers job sends
-- them to the DLQ, xdr_late.sql); the rest continue with exact duplicates (same event_id) removed by a window
-- deduplication over 1 ms windows, whose state the watermark clears; the event packed in one ROW so that every
-- reader shares one deduplication. Integers in the packed ROW are BIGINT (never a nullable INT).
CREATE TEMPORARY VIEW xdr_on_time AS
SELECT * FROM xdr_valid
WHERE CURRENT_WATERMARK(rowtime) IS NULL OR rowtime >= CURRENT_WATERMARK(rowtime);

-- The xDRs' pace (pace.sql) joins them without rows: the de-duplication follows the signaling watermark too.
CREATE TEMPORARY VIEW xdr_packed AS
SELECT event_id, rowtime,
       CAST(ROW(event_id, ts, msisdn, imsi, imei, cell_id, rat, app, bytes_up, bytes_down)
            AS ROW<event_id STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING, cell_id BIGINT,
                   rat STRING, app STRING, bytes_up BIGINT, bytes_down BIGINT>) AS x
FROM xdr_on_time
UNION ALL
SELECT CAST(NULL AS STRING), rowtime,
       CAST(NULL AS ROW<event_id STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING, cell_id BIGINT,
                        rat STRING, app STRING, bytes_up BIGINT, bytes_down BIGINT>)
FROM xdr_pace;

CREATE TEMPORARY VIEW xdr_unique AS
SELECT x.event_id, x.ts, x.msisdn, x.imsi, x.imei, x.cell_id, x.rat, x.app, x.bytes_up, x.bytes_down,
       window_time AS rowtime
FROM (
  SELECT x, window_time, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, event_id ORDER BY rowtime) AS copy
  FROM TABLE(TUMBLE(TABLE xdr_packed, DESCRIPTOR(rowtime), INTERVAL '0.001' SECOND))
)
WHERE copy = 1;
