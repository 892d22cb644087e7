-- Everything the decision job keeps per subscriber, as one stream keyed by msisdn: triggers (decided in ts
-- order), hourly behaviour buckets, and the profile (the reference file, then updates from the profiles topic).
CREATE TEMPORARY VIEW subscriber_inputs AS
SELECT msisdn, 'trigger' AS input, ts, line FROM triggers_in
UNION ALL
SELECT msisdn, 'behaviour' AS input, hour_start AS ts, line FROM behaviour_in
UNION ALL
SELECT msisdn, 'profile' AS input, CAST(0 AS BIGINT) AS ts,
       JSON_OBJECT('msisdn' VALUE msisdn, 'brand' VALUE brand, 'plan' VALUE plan,
                   'data_quota_mb' VALUE data_quota_mb, 'arpu_band' VALUE arpu_band, 'age_band' VALUE age_band,
                   'consent_marketing' VALUE consent_marketing, 'consent_location' VALUE consent_location,
                   'do_not_disturb' VALUE do_not_disturb, 'products' VALUE products) AS line
FROM profiles
UNION ALL
SELECT msisdn, 'profile' AS input, CAST(0 AS BIGINT) AS ts, line FROM profile_updates;
