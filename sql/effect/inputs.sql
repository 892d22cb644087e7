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
SELECT JSON_VALUE(line, '$.msisdn'), 'order', TRY_CAST(JSON_VALUE(line, '$.ts') AS BIGINT), line
FROM orders_in;
