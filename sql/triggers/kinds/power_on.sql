-- power_on: an attach whose previous signaling event is a detach at least the minimum off time earlier
-- (docs/triggers.md); off_minutes is floored.
CREATE TEMPORARY VIEW power_on_found AS
SELECT msisdn, ts, JSON_OBJECT('off_minutes' VALUE (ts - previous_ts) / ${minute_ms}) AS context
FROM (
  SELECT msisdn, ts, on_off, LAG(on_off) OVER w AS previous_on_off, LAG(ts) OVER w AS previous_ts
  FROM (
    -- only what the rule reads, as an expression: of a plain projection the planner would hand the OVER the
    -- whole event, which it keeps until the watermark passes it
    SELECT msisdn, ts, rowtime, CASE WHEN event_type IN ('attach', 'detach') THEN event_type END AS on_off
    FROM signaling_unique
  )
  WINDOW w AS (PARTITION BY msisdn ORDER BY rowtime)
)
WHERE on_off = 'attach' AND previous_on_off = 'detach' AND ts - previous_ts >= ${power_on_min_off_ms};
