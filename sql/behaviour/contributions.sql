-- What each on-time, de-duplicated event adds to its subscriber's hour: one row per
-- signaling event or xDR, all measures BIGINT (a CASE of 1/0 is INT, and SUM(INT) would stay INT).
-- hotline_dials: MO calls to the directory number or a hotline; roaming: a visited network outside the home PLMNs;
-- imei_key: fixed-width ts then IMEI, so MAX() picks the latest IMEI whatever the arrival order.
CREATE TEMPORARY VIEW behaviour_contributions AS
SELECT msisdn, rowtime, cell_id,
       CAST(CASE WHEN event_type = 'mo_call' THEN 1 ELSE 0 END AS BIGINT) AS calls_mo,
       CAST(CASE WHEN event_type = 'mt_call' THEN 1 ELSE 0 END AS BIGINT) AS calls_mt,
       CASE WHEN event_type IN ('mo_call', 'mt_call') THEN COALESCE(duration_s, CAST(0 AS BIGINT))
            ELSE CAST(0 AS BIGINT) END AS call_seconds,
       CAST(CASE WHEN event_type IN ('mo_sms', 'mt_sms') THEN 1 ELSE 0 END AS BIGINT) AS sms,
       CAST(0 AS BIGINT) AS bytes_up,
       CAST(0 AS BIGINT) AS bytes_down,
       CAST(0 AS BIGINT) AS g3_bytes,
       CAST(CASE WHEN event_type = 'mo_call'
                  AND called_number IN ('${directory_number}', ${hotline_numbers}) THEN 1 ELSE 0 END AS BIGINT)
         AS hotline_dials,
       CAST(CASE WHEN vlr_plmn IS NOT NULL AND vlr_plmn NOT IN (${home_plmns}) THEN 1 ELSE 0 END AS BIGINT)
         AS roaming,
       CASE WHEN imei IS NOT NULL THEN LPAD(CAST(ts AS STRING), 19, '0') || imei END AS imei_key
FROM signaling_unique
UNION ALL
SELECT msisdn, rowtime, cell_id,
       CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT),
       COALESCE(bytes_up, CAST(0 AS BIGINT)),
       COALESCE(bytes_down, CAST(0 AS BIGINT)),
       CASE WHEN rat = 'G3' THEN COALESCE(bytes_up, CAST(0 AS BIGINT)) + COALESCE(bytes_down, CAST(0 AS BIGINT))
            ELSE CAST(0 AS BIGINT) END,
       CAST(0 AS BIGINT), CAST(0 AS BIGINT),
       CASE WHEN imei IS NOT NULL THEN LPAD(CAST(ts AS STRING), 19, '0') || imei END
FROM xdr_unique;
