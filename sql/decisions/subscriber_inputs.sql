-- Everything the decision job keeps per subscriber, as one stream keyed by msisdn: triggers (decided in ts
-- order), hourly behaviour buckets, and the profile (every profile and change of one: tables/profiles_in.sql).
CREATE TEMPORARY VIEW subscriber_inputs AS
SELECT msisdn, 'trigger' AS input, ts, line FROM triggers_in
UNION ALL
SELECT msisdn, 'behaviour' AS input, hour_start AS ts, line FROM behaviour_in
UNION ALL
SELECT msisdn, 'profile' AS input, CAST(0 AS BIGINT) AS ts, line FROM profiles_in;
