-- Late orders go to the DLQ (reason `late`), rebuilt as JSON since the raw line is gone by now.
INSERT INTO dlq
SELECT 'orders', 'late', 'behind watermark by more than the out-of-orderness bound', order_id, ts,
       JSON_OBJECT('order_id' VALUE order_id, 'ts' VALUE ts, 'msisdn' VALUE msisdn, 'product_id' VALUE product_id,
                   'product_kind' VALUE product_kind, 'action' VALUE action ABSENT ON NULL)
FROM orders_valid
WHERE rowtime < CURRENT_WATERMARK(rowtime);
