-- Raw xDR lines exactly as the DPI probes sent them; event time as in signaling_raw.sql (xdr_time: the ts of a
-- valid line, the epoch otherwise; watermarked per partition).
CREATE TABLE xdr_raw (
  line STRING,
  rowtime AS TO_TIMESTAMP_LTZ(COALESCE(xdr_time(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${rats}'), 0), 3),
  WATERMARK FOR rowtime AS rowtime - INTERVAL '${out_of_orderness_s}' SECOND
) WITH (
  ${connector}
);
