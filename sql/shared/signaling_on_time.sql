-- Events later than the watermark (beyond the bounded out-of-orderness) are counted as dead letters with
-- reason `late` (late.sql, in the triggers job) instead of being dropped silently; the rest continue, exact
-- duplicates removed. Shared by triggers, behaviour and region_metrics (the last two leave the DLQ to triggers).
CREATE TEMPORARY VIEW signaling_on_time AS
SELECT * FROM signaling_normalised
WHERE CURRENT_WATERMARK(rowtime) IS NULL OR rowtime >= CURRENT_WATERMARK(rowtime);

-- Flink's event-time deduplication (keep the first copy of each event_id). An OVER/LAG comparison would
-- need less state, but OVER windows treat equal timestamps as peers, so both copies would be dropped.
-- Its state is bounded by flink.state_ttl_hours.
CREATE TEMPORARY VIEW signaling_unique AS
SELECT e.event_id, e.event_type, e.ts, e.msisdn, e.imsi, e.imei, e.lac, e.cell_id, e.rat, e.vlr_plmn,
       e.called_number, e.forward_to, e.duration_s, rowtime
FROM (
  SELECT e, rowtime, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY rowtime) AS copy
  FROM (
    SELECT event_id, CAST(ROW(event_id, event_type, ts, msisdn, imsi, imei, lac, cell_id, rat, vlr_plmn,
                              called_number, forward_to, CAST(duration_s AS BIGINT))
                          AS ROW<event_id STRING, event_type STRING, ts BIGINT, msisdn STRING, imsi STRING,
                                 imei STRING, lac INT, cell_id BIGINT, rat STRING, vlr_plmn STRING,
                                 called_number STRING, forward_to STRING, duration_s BIGINT>) AS e, rowtime
    FROM signaling_on_time
  )
)
WHERE copy = 1;
