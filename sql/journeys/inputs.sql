-- Everything the journeys job keeps per subscriber, as one stream keyed by msisdn, each row with the event time
-- it is taken at (the operator takes a subscriber's rows in that order):
-- - a trial start, with the journey in force for its product when it was ordered and the subscriber's
--   profile then (an inner join: a trial of a product without a journey starts nothing);
-- - every subscribe and unsubscribe order (they convert or end a trial);
-- - the subscriber's usage of an app in a clock hour, at the hour's end.
CREATE TEMPORARY VIEW journey_inputs AS
SELECT o.msisdn, 'trial' AS input, o.ts,
       JSON_OBJECT('order_id' VALUE o.order_id, 'msisdn' VALUE o.msisdn, 'ts' VALUE o.ts,
                   'product_id' VALUE o.product_id, 'action' VALUE o.action, 'journey' VALUE j.definition,
                   'has_profile' VALUE p.msisdn IS NOT NULL, 'consent_marketing' VALUE p.consent_marketing,
                   'do_not_disturb' VALUE p.do_not_disturb) AS payload
FROM orders_unique AS o
JOIN journeys FOR SYSTEM_TIME AS OF o.rowtime AS j ON o.product_id = j.trial_product
LEFT JOIN profiles FOR SYSTEM_TIME AS OF o.rowtime AS p ON o.msisdn = p.msisdn
WHERE o.action = 'trial_start'
UNION ALL
SELECT msisdn, 'order', ts,
       JSON_OBJECT('order_id' VALUE order_id, 'msisdn' VALUE msisdn, 'ts' VALUE ts, 'product_id' VALUE product_id,
                   'action' VALUE action)
FROM orders_unique
WHERE action IN ('subscribe', 'unsubscribe')
UNION ALL
SELECT msisdn, 'usage', hour_start + ${hour_ms},
       JSON_OBJECT('app' VALUE app, 'hour_start' VALUE hour_start, 'bytes' VALUE app_bytes)
FROM app_usage;
