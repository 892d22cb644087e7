-- Parse each raw xDR line once (sql/ingest/functions.sql) into typed fields and its first defect.
CREATE TEMPORARY VIEW xdr_checked AS
SELECT c.event_id, c.ts, c.msisdn, c.imsi, c.imei, CAST(c.lac AS INT) AS lac, c.cell_id, c.rat, c.apn, c.app,
       c.bytes_up, c.bytes_down, CAST(c.duration_s AS INT) AS duration_s, c.reason, c.detail, c.`raw`, rowtime
FROM (
  SELECT check_xdr(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${rats}') AS c, rowtime
  FROM xdr_raw
);

-- The valid xDRs, typed, with their event time: as signaling_valid (signaling_checked.sql).
CREATE TEMPORARY VIEW xdr_valid AS
SELECT event_id, ts, msisdn, imsi, imei, lac, cell_id, rat, apn, app, bytes_up, bytes_down, duration_s, rowtime
FROM xdr_checked
WHERE reason IS NULL;

-- The xdr feed's watermark without its rows (no valid line has a null ts): what a sparser feed's de-duplication
-- follows besides its own (sql/shared/pace.sql).
CREATE TEMPORARY VIEW xdr_clock AS
SELECT rowtime FROM xdr_valid
WHERE ts IS NULL;
