-- xDRs as signaling in on_time.sql: events later than the watermark go to the DLQ (reason `late`); the rest
-- continue with exact duplicates (same event_id) removed by Flink's event-time deduplication.
CREATE TEMPORARY VIEW xdr_on_time AS
SELECT * FROM xdr_normalised
WHERE CURRENT_WATERMARK(rowtime) IS NULL OR rowtime >= CURRENT_WATERMARK(rowtime);

CREATE TEMPORARY VIEW xdr_unique AS
SELECT x.event_id, x.ts, x.msisdn, x.imsi, x.bytes_up, x.bytes_down, rowtime
FROM (
  SELECT x, rowtime, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY rowtime) AS copy
  FROM (
    SELECT event_id, CAST(ROW(event_id, ts, msisdn, imsi, bytes_up, bytes_down)
                          AS ROW<event_id STRING, ts BIGINT, msisdn STRING, imsi STRING, bytes_up BIGINT,
                                 bytes_down BIGINT>) AS x, rowtime
    FROM xdr_on_time
  )
)
WHERE copy = 1;

-- Late xDRs go to the DLQ (reason `late`), rebuilt as JSON since the raw line is gone by now.
INSERT INTO dlq
SELECT 'xdr', 'late', 'behind watermark by more than the out-of-orderness bound', event_id, ts,
       JSON_OBJECT('event_id' VALUE event_id, 'ts' VALUE ts, 'msisdn' VALUE msisdn, 'imsi' VALUE imsi,
                   'cell_id' VALUE cell_id, 'bytes_up' VALUE bytes_up, 'bytes_down' VALUE bytes_down
                   ABSENT ON NULL)
FROM xdr_normalised
WHERE rowtime < CURRENT_WATERMARK(rowtime);
