-- Raw order lines exactly as BOSS/CRM sent them; parsed by ingest so a bad order reaches the DLQ. Event time as
-- in signaling_raw.sql (orders_time: the ts of a valid line, the epoch otherwise; watermarked per partition).
CREATE TABLE orders_raw (
  line STRING,
  rowtime AS TO_TIMESTAMP_LTZ(COALESCE(orders_time(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${actions}',
                                    '${product_kinds}'), 0), 3),
  WATERMARK FOR rowtime AS rowtime - INTERVAL '${out_of_orderness_s}' SECOND
) WITH (
  ${connector}
);
