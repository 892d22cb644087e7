-- power_on: an attach whose previous signaling event is a detach at least the minimum off time earlier
-- (docs/triggers.md); off_minutes is floored.
CREATE TEMPORARY VIEW power_on_found AS
SELECT msisdn, ts, JSON_OBJECT('off_minutes' VALUE (ts - previous_ts) / ${minute_ms}) AS context
FROM (
  SELECT msisdn, ts, event_type, LAG(event_type) OVER w AS previous_type, LAG(ts) OVER w AS previous_ts
  FROM signaling_unique
  WINDOW w AS (PARTITION BY msisdn ORDER BY rowtime)
)
WHERE event_type = 'attach' AND previous_type = 'detach' AND ts - previous_ts >= ${power_on_min_off_ms};
