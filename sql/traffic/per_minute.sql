-- Tumbling one-minute event-time windows over every valid event as it came (duplicates and late ones included: this
-- is the feed's health, not its content).
CREATE TEMPORARY VIEW valid_events AS
SELECT 'signaling' AS source, event_type, rowtime FROM signaling_valid
UNION ALL
SELECT 'xdr' AS source, 'xdr' AS event_type, rowtime FROM xdr_valid;

INSERT INTO traffic
SELECT
  UNIX_TIMESTAMP(CAST(window_start AS STRING)) * 1000,
  UNIX_TIMESTAMP(CAST(window_end AS STRING)) * 1000,
  source, event_type, COUNT(*)
FROM TABLE(TUMBLE(TABLE valid_events, DESCRIPTOR(rowtime), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, source, event_type;
