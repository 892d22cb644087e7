-- Orders of a product the catalogue does not know go to the DLQ (reason `unknown_product`, the product id in
-- `detail`): no campaign or journey offers it (both are checked against the catalogue when published), so no lead
-- can be attributed to it. Checked against the catalogue in force at the order's time, here because this job reads
-- orders in event time; the order stays on orders-normalised, as a late one does.
INSERT INTO dlq
SELECT 'orders', 'unknown_product', o.product_id, o.order_id, o.ts,
       JSON_OBJECT('order_id' VALUE o.order_id, 'ts' VALUE o.ts, 'msisdn' VALUE o.msisdn,
                   'product_id' VALUE o.product_id, 'product_kind' VALUE o.product_kind, 'action' VALUE o.action
                   ABSENT ON NULL)
FROM orders_unique AS o
LEFT JOIN products FOR SYSTEM_TIME AS OF o.rowtime AS p ON o.product_id = p.product_id
WHERE p.product_id IS NULL;
