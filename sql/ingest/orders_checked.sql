-- Parse each raw order line once (sql/ingest/functions.sql) into typed fields and its first defect: an unknown
-- action is `unknown_action`, a product kind outside the schema's `invalid_value`.
CREATE TEMPORARY VIEW orders_checked AS
SELECT c.order_id, c.ts, c.msisdn, c.product_id, c.product_kind, c.action, c.channel, c.lead_id,
       c.reason, c.detail, c.`raw`, rowtime
FROM (
  SELECT check_orders(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${actions}',
                      '${product_kinds}') AS c, rowtime
  FROM orders_raw
);

-- The valid orders, typed, with their event time: as signaling_valid (signaling_checked.sql).
CREATE TEMPORARY VIEW orders_valid AS
SELECT order_id, ts, msisdn, product_id, product_kind, action, channel, lead_id, rowtime
FROM orders_checked
WHERE reason IS NULL;

-- The orders feed's watermark without its rows (no valid line has a null ts): what a sparser feed's de-duplication
-- follows besides its own (sql/shared/pace.sql).
CREATE TEMPORARY VIEW orders_clock AS
SELECT rowtime FROM orders_valid
WHERE ts IS NULL;
