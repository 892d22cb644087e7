-- Everything else goes to the DLQ with its reason and the original line, so nothing is lost.
INSERT INTO dlq
SELECT 'signaling', reason, detail, event_id, ts, `raw`
FROM signaling_checked
WHERE reason IS NOT NULL
UNION ALL
SELECT 'xdr', reason, detail, event_id, ts, `raw`
FROM xdr_checked
WHERE reason IS NOT NULL
UNION ALL
SELECT 'orders', reason, detail, order_id, ts, `raw`
FROM orders_checked
WHERE reason IS NOT NULL;
