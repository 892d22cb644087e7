-- Everything the decision job keeps per subscriber, as one stream keyed by msisdn: triggers (decided in ts
-- order) — the trigger job's, and the trial journeys' steps, which are triggers of kind journey_step (their ends
-- are for the funnel only) —, hourly behaviour buckets, and the profile (every profile and change of one:
-- tables/profiles_in.sql).
CREATE TEMPORARY VIEW subscriber_inputs AS
SELECT msisdn, 'trigger' AS input, ts, line FROM triggers_in
UNION ALL
SELECT msisdn, 'trigger' AS input, ts, line FROM journey_events_in
WHERE JSON_VALUE(line, '$.kind') IS DISTINCT FROM 'journey_end'
UNION ALL
SELECT msisdn, 'behaviour' AS input, hour_start AS ts, line FROM behaviour_in
UNION ALL
SELECT msisdn, 'profile' AS input, CAST(0 AS BIGINT) AS ts, line FROM profiles_in;
