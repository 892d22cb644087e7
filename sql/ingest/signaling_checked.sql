-- Parse each raw signaling line once (sql/ingest/functions.sql) into typed fields and its first defect.
-- reason IS NULL means valid; otherwise reason/detail/raw feed the DLQ (schemas/dlq.schema.json).
CREATE TEMPORARY VIEW signaling_checked AS
SELECT c.event_id, c.event_type, c.ts, c.msisdn, c.imsi, c.imei, CAST(c.lac AS INT) AS lac, c.cell_id, c.rat,
       c.vlr_plmn, c.called_number, c.calling_number, CAST(c.duration_s AS INT) AS duration_s, c.forward_to,
       c.reason, c.detail, c.`raw`, rowtime
FROM (
  SELECT check_signaling(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${event_types}',
                         '${rats}') AS c, rowtime
  FROM signaling_raw
);

-- The valid events, typed, with their event time (rowtime = ts, watermarked per raw partition): what ingest
-- writes to signaling-normalised and what every job that needs event time reads (sql/shared/).
CREATE TEMPORARY VIEW signaling_valid AS
SELECT event_id, event_type, ts, msisdn, imsi, imei, lac, cell_id, rat, vlr_plmn, called_number, calling_number,
       duration_s, forward_to, rowtime
FROM signaling_checked
WHERE reason IS NULL;

-- The signaling feed's watermark without its rows (no valid line has a null ts): what a sparser feed's de-duplication
-- follows besides its own (sql/shared/pace.sql).
CREATE TEMPORARY VIEW signaling_clock AS
SELECT rowtime FROM signaling_valid
WHERE ts IS NULL;
