-- Tumbling one-minute event-time windows over the normalised streams.
CREATE TEMPORARY VIEW normalised_events AS
SELECT 'signaling' AS source, event_type, rowtime FROM signaling_normalised
UNION ALL
SELECT 'xdr' AS source, 'xdr' AS event_type, rowtime FROM xdr_normalised;

INSERT INTO traffic
SELECT
  UNIX_TIMESTAMP(CAST(window_start AS STRING)) * 1000,
  UNIX_TIMESTAMP(CAST(window_end AS STRING)) * 1000,
  source, event_type, COUNT(*)
FROM TABLE(TUMBLE(TABLE normalised_events, DESCRIPTOR(rowtime), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, source, event_type;
