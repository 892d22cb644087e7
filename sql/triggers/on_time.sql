-- Events later than the watermark (beyond the bounded out-of-orderness) are counted as dead letters with
-- reason `late` (late.sql) instead of being dropped silently; the rest continue, exact duplicates removed.
CREATE TEMPORARY VIEW signaling_on_time AS
SELECT * FROM signaling_normalised
WHERE CURRENT_WATERMARK(rowtime) IS NULL OR rowtime >= CURRENT_WATERMARK(rowtime);

-- Flink's event-time deduplication (keep the first copy of each event_id). An OVER/LAG comparison would
-- need less state, but OVER windows treat equal timestamps as peers, so both copies would be dropped.
-- Its state is bounded by flink.state_ttl.
CREATE TEMPORARY VIEW signaling_unique AS
SELECT event_id, event_type, ts, msisdn, imsi, imei, lac, cell_id, rat, vlr_plmn, called_number, forward_to,
       rowtime
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY rowtime) AS copy
  FROM signaling_on_time
)
WHERE copy = 1;
