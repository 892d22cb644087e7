-- Trial starts, each with the journey in force for its product when it was ordered and the subscriber's profile
-- then (an inner join: a trial of a product without a journey starts nothing).
CREATE TEMPORARY VIEW trial_starts AS
SELECT o.msisdn, o.ts, o.order_id, o.product_id, o.action, j.definition,
       JSON_VALUE(j.definition, '$.id') AS journey_id, JSON_VALUE(j.definition, '$.usage.app') AS app,
       p.msisdn IS NOT NULL AS has_profile, p.consent_marketing, p.do_not_disturb
FROM orders_unique AS o
JOIN journeys FOR SYSTEM_TIME AS OF o.rowtime AS j ON o.product_id = j.trial_product
LEFT JOIN profiles FOR SYSTEM_TIME AS OF o.rowtime AS p ON o.msisdn = p.msisdn
WHERE o.action = 'trial_start';

-- Only the usage a trial asks about goes on to Python: the hours of the journey's app of a subscriber in a trial,
-- from the hour the trial starts. A regular join, not an interval join, so that it holds no watermark back (the
-- steps wait for the watermark): each trial start is kept ${trial_keep} (journeys.max_trial_days), each hour
-- of usage ${usage_wait} (journeys.usage_wait_minutes) for a trial start that may still come. Each row names
-- the journey it is for; a subscriber's second trial of one journey joins the hours again, which Python takes once.
CREATE TEMPORARY VIEW trial_usage AS
SELECT /*+ STATE_TTL('u' = '${usage_wait}', 't' = '${trial_keep}') */
       u.msisdn, t.journey_id, u.app, u.hour_start, u.app_bytes
FROM app_usage AS u
JOIN trial_starts AS t ON u.msisdn = t.msisdn AND u.app = t.app AND u.hour_start + ${hour_ms} > t.ts;

-- Everything the journeys job keeps per subscriber, as one stream keyed by msisdn, each row with the event time
-- it is taken at (the operator takes a subscriber's rows in that order): trial starts; every subscribe and
-- unsubscribe order (they convert or end a trial); a trial's usage in a clock hour, at the hour's end.
CREATE TEMPORARY VIEW journey_inputs AS
SELECT msisdn, 'trial' AS input, ts,
       JSON_OBJECT('order_id' VALUE order_id, 'msisdn' VALUE msisdn, 'ts' VALUE ts, 'product_id' VALUE product_id,
                   'action' VALUE action, 'journey' VALUE definition, 'has_profile' VALUE has_profile,
                   'consent_marketing' VALUE consent_marketing, 'do_not_disturb' VALUE do_not_disturb) AS payload
FROM trial_starts
UNION ALL
SELECT msisdn, 'order', ts,
       JSON_OBJECT('order_id' VALUE order_id, 'msisdn' VALUE msisdn, 'ts' VALUE ts, 'product_id' VALUE product_id,
                   'action' VALUE action)
FROM orders_unique
WHERE action IN ('subscribe', 'unsubscribe')
UNION ALL
SELECT msisdn, 'usage', hour_start + ${hour_ms},
       JSON_OBJECT('journey_id' VALUE journey_id, 'app' VALUE app, 'hour_start' VALUE hour_start,
                   'bytes' VALUE app_bytes)
FROM trial_usage;
