-- Events later than the watermark (beyond the bounded out-of-orderness) are counted as dead letters with
-- reason `late` (late.sql, in the triggers job) instead of being dropped silently; the rest continue, exact
-- duplicates removed. Shared by triggers, behaviour and region_metrics (the last two leave the DLQ to triggers).
CREATE TEMPORARY VIEW signaling_on_time AS
SELECT * FROM signaling_valid
WHERE CURRENT_WATERMARK(rowtime) IS NULL OR rowtime >= CURRENT_WATERMARK(rowtime);

-- De-duplication (keep the first copy of each event_id) as a window deduplication over 1 ms tumbling windows:
-- a copy of an event carries its ts, so both copies fall in the same millisecond, and Flink drops a window's
-- state as soon as the watermark passes it. The state holds only the events within the out-of-orderness bound,
-- not every event id for flink.state_ttl_hours (the row-number deduplication it replaced held ~9 KB per
-- subscriber after a day). window_time (the window's last millisecond = ts) is the event time downstream.
-- The event travels packed in one ROW: otherwise the planner pushes each reader's columns into the
-- deduplication and gives every trigger kind its own copy, with its own state.
CREATE TEMPORARY VIEW signaling_packed AS
SELECT event_id, rowtime,
       CAST(ROW(event_id, event_type, ts, msisdn, imsi, imei, lac, cell_id, rat, vlr_plmn, called_number,
                  forward_to, CAST(duration_s AS BIGINT))
            AS ROW<event_id STRING, event_type STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING,
                   lac INT, cell_id BIGINT, rat STRING, vlr_plmn STRING, called_number STRING,
                   forward_to STRING, duration_s BIGINT>) AS e
FROM signaling_on_time;

CREATE TEMPORARY VIEW signaling_unique AS
SELECT e.event_id, e.event_type, e.ts, e.msisdn, e.imsi, e.imei, e.lac, e.cell_id, e.rat, e.vlr_plmn,
       e.called_number, e.forward_to, e.duration_s, window_time AS rowtime
FROM (
  SELECT e, window_time, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, event_id ORDER BY rowtime) AS copy
  FROM TABLE(TUMBLE(TABLE signaling_packed, DESCRIPTOR(rowtime), INTERVAL '0.001' SECOND))
)
WHERE copy = 1;
