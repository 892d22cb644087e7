-- zero_usage: a data package subscribed and then not used — no xDR of the subscriber with
-- order.ts < ts <= order.ts + ${zero_usage_ms} (docs/triggers.md). Absence as a LEFT interval join: an order
-- that no xDR in its window joins comes out null-padded once the watermark passes the window's end. The join
-- keeps each order for the window and each xDR only until the watermark passes it, so the xDR side adds
-- little state. ts is the window's end. A bounded replay flushes every window at the end of its input, so
-- firings after the data's last event time (${data_end}; the largest BIGINT when streaming) are dropped.
CREATE TEMPORARY VIEW zero_usage_found AS
SELECT o.msisdn, o.ts + ${zero_usage_ms} AS ts,
       JSON_OBJECT('order_id' VALUE o.order_id, 'product_id' VALUE o.product_id) AS context
FROM (
  SELECT order_id, ts, msisdn, product_id, rowtime
  FROM orders_unique
  WHERE action = 'subscribe' AND product_kind = 'data_package'
) AS o
LEFT JOIN (SELECT msisdn, rowtime FROM xdr_unique) AS x
  ON x.msisdn = o.msisdn
 AND x.rowtime > o.rowtime AND x.rowtime <= o.rowtime + INTERVAL '${zero_usage_interval}' DAY(3) TO SECOND(3)
WHERE x.msisdn IS NULL AND o.ts + ${zero_usage_ms} <= ${data_end};
