-- The orders the effect job attributes: the raw topic's valid ones, each once and in event-time order
-- (sql/shared/orders_on_time.sql), so that however the CRM keyed them a subscriber's orders reach the attribution
-- rules in the order they were placed, a backlog included. An order later than the watermark (placed in a past
-- that event time has left: answers to leads of a replayed day) is not dropped but taken as it comes.
CREATE TEMPORARY VIEW effect_orders AS
SELECT order_id, ts, msisdn, product_id, product_kind, action, channel, lead_id FROM orders_unique
UNION ALL
SELECT order_id, ts, msisdn, product_id, product_kind, action, channel, lead_id FROM orders_valid
WHERE rowtime < CURRENT_WATERMARK(rowtime);

-- Everything the effect job keeps per subscriber, as one stream keyed by msisdn, each with the event time it is
-- taken in: a lead at its trigger's time (before any order it may win: its deliver_at is not earlier), a
-- delivery report at its own, an order at its own. Only delivery reports are taken from `outcomes` (and lines
-- that are not JSON, for the DLQ): the job's own records (converted, expired) come back on the same topic.
CREATE TEMPORARY VIEW effect_inputs AS
SELECT JSON_VALUE(line, '$.msisdn') AS msisdn, 'lead' AS input,
       TRY_CAST(JSON_VALUE(line, '$.trigger_ts') AS BIGINT) AS ts, line
FROM leads_in
UNION ALL
SELECT JSON_VALUE(line, '$.msisdn'), 'delivered', TRY_CAST(JSON_VALUE(line, '$.ts') AS BIGINT), line
FROM outcomes_in
WHERE JSON_VALUE(line, '$.status') = 'delivered' OR JSON_VALUE(line, '$.status') IS NULL
UNION ALL
SELECT msisdn, 'order', ts,
       JSON_OBJECT('order_id' VALUE order_id, 'ts' VALUE ts, 'msisdn' VALUE msisdn, 'product_id' VALUE product_id,
                   'product_kind' VALUE product_kind, 'action' VALUE action, 'channel' VALUE channel,
                   'lead_id' VALUE lead_id ABSENT ON NULL)
FROM effect_orders;
