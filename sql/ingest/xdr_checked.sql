-- Parse each raw xDR line once (sql/ingest/functions.sql) into typed fields and its first defect.
CREATE TEMPORARY VIEW xdr_checked AS
SELECT c.event_id, c.ts, c.msisdn, c.imsi, c.imei, CAST(c.lac AS INT) AS lac, c.cell_id, c.rat, c.apn, c.app,
       c.bytes_up, c.bytes_down, CAST(c.duration_s AS INT) AS duration_s, c.reason, c.detail, c.`raw`
FROM (
  SELECT check_xdr(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${rats}') AS c
  FROM xdr_raw
);
